#!/usr/bin/env pwsh
# HpcCore build script for PowerShell; the same verbs as build.sh:
#   build | test | bench [args...] | demo | native | gpu-publish
param(
    [Parameter(Position = 0)][string]$Verb = 'test',
    [Parameter(Position = 1, ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'; $env:DOTNET_NOLOGO = '1'
$Config = 'Release'
# The methods `./build.ps1 demo` compares (see docs/VIT.md).
$DemoMethods = 'baseline,tome:r=8,tome:r=16,tome:r=32,tome:r=48,evit:keep=0.7,evit:keep=0.5,vtc:keep=0.5,ztp:keep=0.5'

function Invoke-Checked([string]$exe, [string[]]$argv) {
    & $exe @argv
    if ($LASTEXITCODE -ne 0) { throw "$exe $($argv -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build { Invoke-Checked dotnet @('build', 'HpcCore.sln', '-c', $Config, '-nologo', '-clp:ErrorsOnly') }

function Invoke-Tests {
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
    'native' { Write-Error 'native: the NativeAOT C ABI is not built yet (tracked by issue #7).'; exit 2 }
    'gpu-publish' {
        $common = @('-c', $Config, '-r', 'linux-x64', '--self-contained', '-p:PublishSingleFile=true',
            '-p:EnableCompressionInSingleFile=true', '-p:InvariantGlobalization=true', '-p:PublishTrimmed=false')
        Invoke-Checked dotnet (@('publish', 'src/HpcCore.Cli/HpcCore.Cli.csproj') + $common + @('-o', '.gpu/cli'))
        # The GPU attention benchmark (HpcCore + ILGPU only; self-contained because the GPU machines have no .NET).
        Invoke-Checked dotnet (@('publish', 'benchmarks/HpcCore.GpuBenchmarks/HpcCore.GpuBenchmarks.csproj') + $common + @('-o', '.gpu/bench'))
    }
    default { Write-Error "usage: ./build.ps1 [build|test|bench|demo|native|gpu-publish]"; exit 2 }
}
