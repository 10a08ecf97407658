#!/usr/bin/env pwsh
# HpcCore build script for PowerShell; the same verbs as build.sh:
#   build | test | bench [args...] | demo | native | pack | install | gpu-publish | setup-opencl | fuzz [seconds] |
#   fuzz --coverage [seconds] [target...] | soak [minutes] | help
param(
    [Parameter(Position = 0)][string]$Verb = 'test',
    [Parameter(Position = 1, ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'; $env:DOTNET_NOLOGO = '1'
$Config = 'Release'

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

# The CLI as a global .NET tool (`hpccore` in ~/.dotnet/tools), as build.sh install: the previous install of the same
# version is removed and the package restored through a wiped folder, so a reinstall never takes a stale cached copy.
function Invoke-Install {
    foreach ($d in @('artifacts/tool', 'artifacts/tool-restore')) { if (Test-Path $d) { Remove-Item -Recurse -Force $d } }
    Invoke-Checked dotnet @('pack', 'src/HpcCore.Cli/HpcCore.Cli.csproj', '-c', $Config, '-o', 'artifacts/tool', '-nologo', '-clp:ErrorsOnly')
    $version = ([xml](Get-Content Directory.Build.props)).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
    if ((& dotnet tool list --global) -match '^hpccore\.cli\s') { Invoke-Checked dotnet @('tool', 'uninstall', '--global', 'HpcCore.Cli') }
    $env:NUGET_PACKAGES = "$PWD/artifacts/tool-restore"
    try { Invoke-Checked dotnet @('tool', 'install', '--global', '--add-source', 'artifacts/tool', 'HpcCore.Cli', '--version', $version) }
    finally { Remove-Item Env:NUGET_PACKAGES }
    $toolHome = if ($env:DOTNET_CLI_HOME) { $env:DOTNET_CLI_HOME } else { [Environment]::GetFolderPath('UserProfile') }
    $tools = Join-Path $toolHome '.dotnet/tools'
    if (($env:PATH -split [IO.Path]::PathSeparator) -contains $tools) { Write-Host "install: hpccore $version is on the PATH" }
    else { Write-Host "install: hpccore $version is in $tools, which is not on the PATH: add it to PATH" }
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
        if ($name -eq 'HpcCore.OpenCL.Tests') { continue } # its own tier below
        Write-Host "== $name"
        & dotnet test $proj.FullName -c $Config --no-build --nologo --logger "trx;LogFileName=$name.trx" `
            --logger 'console;verbosity=minimal' --results-directory $results
        if ($LASTEXITCODE -ne 0) { $status = 1 }
    }
    # The OpenCL tier, when a usable OpenCL device is found (a GPU driver's OpenCL on Windows; pocl on Linux).
    $opencl = & dotnet "benchmarks/HpcCore.GpuBenchmarks/bin/$Config/net10.0/HpcCore.GpuBenchmarks.dll" devices 2>$null |
        Where-Object { $_ -match '^opencl:\d+ .* usable' -and $_ -notmatch 'not usable' } | Select-Object -First 1
    if ($opencl) {
        Write-Host "== HpcCore.OpenCL.Tests on $opencl"
        & dotnet test tests/HpcCore.OpenCL.Tests/HpcCore.OpenCL.Tests.csproj -c $Config --no-build --nologo `
            --logger 'trx;LogFileName=HpcCore.OpenCL.Tests.trx' --logger 'console;verbosity=minimal' --results-directory $results
        if ($LASTEXITCODE -ne 0) { $status = 1 }
    } else { Write-Host '== HpcCore.OpenCL.Tests: skipped, no usable OpenCL device' }
    # The Vector256 fallbacks, on an AVX-512 machine: the Simd=Vector256 subset again with Vector512 disabled.
    Write-Host '== HpcCore.Tests (Simd=Vector256, DOTNET_EnableAVX512=0)'
    $env:DOTNET_EnableAVX512 = '0'
    & dotnet test tests/HpcCore.Tests/HpcCore.Tests.csproj -c $Config --no-build --nologo --filter 'Simd=Vector256' `
        --logger 'trx;LogFileName=HpcCore.Tests.Vector256.trx' --logger 'console;verbosity=minimal' --results-directory $results
    if ($LASTEXITCODE -ne 0) { $status = 1 }
    Remove-Item Env:DOTNET_EnableAVX512
    # Fuzzing, short form (issue #21): every parser and loader for 2 s of mutated inputs.
    Write-Host '== fuzz (2 s per parser)'
    & dotnet run --project tools/fuzz/HpcCore.Fuzz -c $Config --no-build -- 2 --out artifacts/fuzz
    if ($LASTEXITCODE -ne 0) { Write-Host 'fuzz: FAILED'; $status = 1 }
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
    # `hpccore demo`: the committed ViT with every method (the list is in src/HpcCore.Cli/Commands/DemoCommand.cs).
    'demo' { Invoke-Checked dotnet (@('run', '-c', $Config, '--project', 'src/HpcCore.Cli', '--', 'demo') + $Rest) }
    'native' { Invoke-Native }
    'pack' { Invoke-Pack }
    'install' { Invoke-Install }
    'gpu-publish' {
        $common = @('-c', $Config, '-r', 'linux-x64', '--self-contained', '-p:PublishSingleFile=true',
            '-p:EnableCompressionInSingleFile=true', '-p:InvariantGlobalization=true', '-p:PublishTrimmed=false')
        Invoke-Checked dotnet (@('publish', 'src/HpcCore.Cli/HpcCore.Cli.csproj') + $common + @('-o', '.gpu/cli'))
        # The GPU attention benchmark (HpcCore + ILGPU only; self-contained because the GPU machines have no .NET).
        Invoke-Checked dotnet (@('publish', 'benchmarks/HpcCore.GpuBenchmarks/HpcCore.GpuBenchmarks.csproj') + $common + @('-o', '.gpu/bench'))
    }
    'setup-opencl' {
        # pocl is built from Debian's source package: Linux (Debian) only; elsewhere the GPU driver provides OpenCL.
        if ($IsLinux) { Invoke-Checked bash @('./tools/opencl/setup-pocl.sh') }
        else { Write-Host 'setup-opencl: builds pocl on Debian only; on Windows or macOS install the GPU vendor''s OpenCL driver (docs/OPENCL.md).' }
    }
    # Mutation fuzzing of every parser ([seconds] per parser, default 10) and the multi-threaded soak ([minutes], default 5); docs/HARDENING.md.
    'fuzz' {
        # `fuzz --coverage [seconds] [target...]`: coverage-guided under AFL++ (tools/fuzz/coverage.sh), Linux only.
        if ($Rest.Count -gt 0 -and $Rest[0] -eq '--coverage') {
            if (-not $IsLinux) { [Console]::Error.WriteLine('fuzz --coverage: needs Linux and AFL++ (apt-get install afl++); the mutation fuzzer (fuzz [seconds]) runs everywhere'); exit 2 }
            & bash ./tools/fuzz/coverage.sh @($Rest | Select-Object -Skip 1)
            exit $LASTEXITCODE
        }
        Invoke-Checked dotnet @('build', 'tools/fuzz/HpcCore.Fuzz', '-c', $Config, '-nologo', '-clp:ErrorsOnly')
        $seconds = if ($Rest.Count -gt 0) { $Rest } else { @('10') }
        Invoke-Checked dotnet (@('run', '--project', 'tools/fuzz/HpcCore.Fuzz', '-c', $Config, '--no-build', '--') + $seconds)
    }
    'soak' {
        Invoke-Checked dotnet @('build', 'tools/soak/HpcCore.Soak', '-c', $Config, '-nologo', '-clp:ErrorsOnly')
        $minutes = if ($Rest.Count -gt 0) { $Rest } else { @('5') }
        Invoke-Checked dotnet (@('run', '--project', 'tools/soak/HpcCore.Soak', '-c', $Config, '--no-build', '--') + $minutes)
    }
    'help' { Write-Host 'usage: ./build.ps1 [build|test|bench|demo|native|pack|install|gpu-publish|setup-opencl|fuzz|soak|help]' }
    # Not Write-Error: with $ErrorActionPreference = 'Stop' it throws before `exit 2` runs.
    default { [Console]::Error.WriteLine('usage: ./build.ps1 [build|test|bench|demo|native|pack|install|gpu-publish|setup-opencl|fuzz|soak|help]'); exit 2 }
}
