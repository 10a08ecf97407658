#!/usr/bin/env pwsh
# HpcCore build script for PowerShell; the same verbs as build.sh:
#   build | test | bench [args...] | demo | native | pack | gpu-publish | help
param(
    [Parameter(Position = 0)][string]$Verb = 'test',
    [Parameter(Position = 1, ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'; $env:DOTNET_NOLOGO = '1'
$Config = 'Release'
# The methods `./build.ps1 demo` compares (see docs/VIT.md).
$DemoMethods = 'baseline,tome:r=8,tome:r=16,tome:r=24,tome:r=26,tome:r=32,28,28,24,24,20,16,16,tome:r=32,evit:keep=0.7,vtc:keep=0.5,vtc:keep=0.5;from=4,ztp:keep=0.5,hiprune:keep=0.3;layer=2;object=1,fopru:keep=0.3;layer=2,todre:keep=0.3;layers=2,mmtok:keep=0.3;layers=2,aim:from=2;to=6,expedit:size=7;layer=2'

function Invoke-Checked([string]$exe, [string[]]$argv) {
    & $exe @argv
    if ($LASTEXITCODE -ne 0) { throw "$exe $($argv -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build { Invoke-Checked dotnet @('build', 'HpcCore.sln', '-c', $Config, '-nologo', '-clp:ErrorsOnly') }

function Get-NativeRid {
    $arch = if ([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'Arm64') { 'arm64' } else { 'x64' }
    if ($IsLinux) { "linux-$arch" } elseif ($IsMacOS) { "osx-$arch" } else { "win-$arch" }
}

function Test-CToolchain {
    (Get-Command cmake -ErrorAction SilentlyContinue) -and (Get-Command ctest -ErrorAction SilentlyContinue) -and
    ((Get-Command cc -ErrorAction SilentlyContinue) -or (Get-Command gcc -ErrorAction SilentlyContinue) -or
     (Get-Command clang -ErrorAction SilentlyContinue) -or (Get-Command cl -ErrorAction SilentlyContinue))
}

# NativeAOT C ABI into artifacts/native; C test + sample (CTest) and the Python ctypes example when their tools exist.
function Invoke-Native {
    Invoke-Checked dotnet @('publish', 'native/HpcCore.Native/HpcCore.Native.csproj', '-c', $Config, '-r', (Get-NativeRid),
        '-o', 'artifacts/native', '-nologo', '-clp:ErrorsOnly')
    if (Test-CToolchain) {
        Invoke-Checked cmake @('-S', 'native', '-B', 'artifacts/native-build', '-DCMAKE_BUILD_TYPE=Release',
            "-DHPCCORE_LIB_DIR=$PWD/artifacts/native")
        Invoke-Checked cmake @('--build', 'artifacts/native-build', '--config', 'Release')
        Invoke-Checked ctest @('--test-dir', 'artifacts/native-build', '-C', 'Release', '--output-on-failure')
    } else { Write-Host 'native: cmake or a C compiler is missing: C test and sample skipped' }
    $py = @('/usr/bin/python3', 'python3', 'python') | Where-Object { Get-Command $_ -ErrorAction SilentlyContinue } |
        Where-Object { & $_ -c 'import numpy' 2>$null; $LASTEXITCODE -eq 0 } | Select-Object -First 1
    $lib = Get-ChildItem artifacts/native -File | Where-Object { $_.Name -match '^libhpccore\.(so|dylib|dll)$' } | Select-Object -First 1
    if ($py -and $lib) { Invoke-Checked $py @('native/python/hpccore_example.py', $lib.FullName) }
    else { Write-Host 'native: no python with NumPy: ctypes example skipped' }
}

# NuGet packages of the three shipped libraries into artifacts/packages.
function Invoke-Pack([string[]]$extra = @()) {
    if (Test-Path artifacts/packages) { Remove-Item -Recurse -Force artifacts/packages }
    foreach ($proj in @('src/HpcCore/HpcCore.csproj', 'src/HpcCore.Models/HpcCore.Models.csproj', 'gpu/HpcCore.Gpu/HpcCore.Gpu.csproj')) {
        Invoke-Checked dotnet (@('pack', $proj, '-c', $Config, '-o', 'artifacts/packages', '-nologo', '-clp:ErrorsOnly') + $extra)
    }
}

# The consumer project restores the packages into its own, wiped packages folder (never a stale cached copy).
function Invoke-Consumer {
    foreach ($d in @('artifacts/consumer-packages', 'tests/consumer/HpcCore.Consumer/bin', 'tests/consumer/HpcCore.Consumer/obj')) {
        if (Test-Path $d) { Remove-Item -Recurse -Force $d }
    }
    $out = & dotnet run --project tests/consumer/HpcCore.Consumer -c $Config "-p:RestorePackagesPath=$PWD/artifacts/consumer-packages" 2>&1
    $rc = $LASTEXITCODE
    $out | ForEach-Object { Write-Host $_ }
    if ($rc -ne 0 -or -not ($out -match '^consumer: ok')) { throw 'consumer: FAILED' }
}

function Invoke-Tests {
    # The pretrained encoders' packages (issue #17); without them the encoder oracle tests skip and say why.
    & dotnet restore tools/encoder-models -nologo -v q
    if ($LASTEXITCODE -ne 0) { Write-Host 'encoder models: not restored; their oracle tests will skip' }
    Invoke-Build
    $results = 'artifacts/test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    $status = 0
    foreach ($proj in Get-ChildItem tests/*/*.csproj) {
        if (-not (Select-String -Quiet -Path $proj -Pattern '<IsTestProject>true</IsTestProject>')) { continue }
        $name = $proj.BaseName
        Write-Host "== $name"
        & dotnet test $proj.FullName -c $Config --no-build --nologo --logger "trx;LogFileName=$name.trx" `
            --logger 'console;verbosity=minimal' --results-directory $results
        if ($LASTEXITCODE -ne 0) { $status = 1 }
    }
    # The Vector256 fallbacks, on an AVX-512 machine: the Simd=Vector256 subset again with Vector512 disabled.
    Write-Host '== HpcCore.Tests (Simd=Vector256, DOTNET_EnableAVX512=0)'
    $env:DOTNET_EnableAVX512 = '0'
    & dotnet test tests/HpcCore.Tests/HpcCore.Tests.csproj -c $Config --no-build --nologo --filter 'Simd=Vector256' `
        --logger 'trx;LogFileName=HpcCore.Tests.Vector256.trx' --logger 'console;verbosity=minimal' --results-directory $results
    if ($LASTEXITCODE -ne 0) { $status = 1 }
    Remove-Item Env:DOTNET_EnableAVX512
    Write-Host '== NuGet packages + consumer project'
    try { Invoke-Pack @('--no-build'); Invoke-Consumer } catch { Write-Host $_; $status = 1 }
    if (Test-CToolchain) {
        Write-Host '== native (C ABI)'
        try { Invoke-Native } catch { Write-Host $_; $status = 1 }
    } else { Write-Host '== native: cmake or a C compiler is missing: skipped' }
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($trx in Get-ChildItem "$results/*.trx") {
        $c = ([xml](Get-Content $trx)).TestRun.ResultSummary.Counters
        $passed += [int]$c.passed; $failed += [int]$c.failed; $skipped += [int]$c.total - [int]$c.executed
    }
    if ($passed -eq 0 -and $failed -eq 0) { $status = 1 }
    if ($skipped -gt 0) { Write-Host "$passed passed, $failed failed, $skipped skipped" }
    else { Write-Host "$passed passed, $failed failed" }
    if ($failed -gt 0) { $status = 1 }
    exit $status
}

switch ($Verb) {
    'build' { Invoke-Build }
    'test' { Invoke-Tests }
    'bench' { Invoke-Build; Invoke-Checked dotnet (@('run', '-c', $Config, '--project', 'benchmarks/HpcCore.Benchmarks', '--') + $Rest) }
    'demo' {
        # Same as build.sh demo: the committed Fashion-MNIST ViT on the committed test subset, every method.
        New-Item -ItemType Directory -Force -Path 'artifacts/demo' | Out-Null
        Invoke-Checked dotnet (@('run', '-c', $Config, '--project', 'src/HpcCore.Cli', '--', 'vit', 'eval',
            '--model', 'assets/vit/vit-fmnist.safetensors', '--data', 'assets/data/fashion-mnist',
            '--methods', $DemoMethods, '--plot', 'artifacts/demo/pareto.png', '--visualize', 'artifacts/demo/merges.png') + $Rest)
    }
    'native' { Invoke-Native }
    'pack' { Invoke-Pack }
    'gpu-publish' {
        $common = @('-c', $Config, '-r', 'linux-x64', '--self-contained', '-p:PublishSingleFile=true',
            '-p:EnableCompressionInSingleFile=true', '-p:InvariantGlobalization=true', '-p:PublishTrimmed=false')
        Invoke-Checked dotnet (@('publish', 'src/HpcCore.Cli/HpcCore.Cli.csproj') + $common + @('-o', '.gpu/cli'))
        # The GPU attention benchmark (HpcCore + ILGPU only; self-contained because the GPU machines have no .NET).
        Invoke-Checked dotnet (@('publish', 'benchmarks/HpcCore.GpuBenchmarks/HpcCore.GpuBenchmarks.csproj') + $common + @('-o', '.gpu/bench'))
    }
    'help' { Write-Host 'usage: ./build.ps1 [build|test|bench|demo|native|pack|gpu-publish|help]' }
    # Not Write-Error: with $ErrorActionPreference = 'Stop' it throws before `exit 2` runs.
    default { [Console]::Error.WriteLine('usage: ./build.ps1 [build|test|bench|demo|native|pack|gpu-publish|help]'); exit 2 }
}
