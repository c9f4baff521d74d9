#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks RnnLinearization.
.DESCRIPTION
    Build : publishes the module into out/RnnLinearization (TorchSharp natives included), importable from there.
    Test  : Package, then every xunit test (core) and every Pester test (the built module, as a user calls it);
            ends with one line 'N passed, N failed' and exits non-zero on any failure.
    Demo  : Build, then analyses the bundled example model (examples/Demo.ps1).
    Package: Build, then out/RnnLinearization.<version>.nupkg (the module folder, natives included), made by
            PSResourceGet's Publish-PSResource into a temporary local repository; installable with Save-PSResource
            or Install-PSResource from a folder registered as a repository.
    Bench : Build, then bench/Invoke-Benchmark.ps1: the module against the seed and batched PyTorch (out/bench/bench.json),
            then Fuzz, then a 5-minute soak (bench/Invoke-Soak.ps1: memory flat, every pass equal to the first).
    ClusterTest: Build, then tools/Invoke-ClusterTest.ps1: a one-node Slurm cluster on this machine (slurm-wlm and munge
            installed with apt-get when missing, which needs root), the two examples/cluster array jobs, their joined
            parts checked against one process; the daemons it started are stopped. Not part of Test.
    Fuzz  : 10,000 mutated model and state files through every reader (the xunit fuzz tests with 1,112 cases per file).
    Clean : removes out/ and every bin/ and obj/.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Fuzz', 'Package', 'ClusterTest', 'Clean')]
    [string] $Task = 'Build',
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleDir = Join-Path $Out 'RnnLinearization'
$Rid = [System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier
$CoreTests = Join-Path $Root 'tests/RnnLinearization.Core.Tests'

function Invoke-Native([string] $What, [scriptblock] $Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)." }
}

# The one step that adapts TorchSharp's natives to an older libstdc++ (see the script's help).
function Repair-Natives([string[]] $Folders) {
    & (Join-Path $Root 'tools/Repair-LibTorchSharpGlibcxx.ps1') -Path $Folders
}

function Invoke-Build {
    Write-Host "Building RnnLinearization ($Configuration, $Rid) into $ModuleDir" -ForegroundColor Cyan
    # A RID-specific publish puts the native libraries next to the dll, where pwsh's process finds them.
    Invoke-Native 'dotnet publish' { dotnet publish (Join-Path $Root 'src/RnnLinearization/RnnLinearization.csproj') -c $Configuration -r $Rid --self-contained false -o $ModuleDir --nologo -v quiet }
    Copy-Item (Join-Path $Root 'RnnLinearization.psd1') $ModuleDir -Force
    Copy-Item (Join-Path $Root 'src/RnnLinearization/RnnLinearization.Format.ps1xml') $ModuleDir -Force
    Repair-Natives $ModuleDir
    # The bundled example model (the help's examples use it), and the about topic, also under the module's name so
    # that Get-Help RnnLinearization opens it.
    New-Item -ItemType Directory (Join-Path $ModuleDir 'examples'), (Join-Path $ModuleDir 'en-US') -Force | Out-Null
    Copy-Item (Join-Path $Root 'examples/flipflop_rnn.pt'), (Join-Path $Root 'examples/flipflop_rnn.json') (Join-Path $ModuleDir 'examples') -Force
    foreach ($name in 'about_RnnLinearization', 'RnnLinearization') {
        Copy-Item (Join-Path $Root 'docs/about_RnnLinearization.help.txt') (Join-Path $ModuleDir "en-US/$name.help.txt") -Force
    }
    # Help is generated from docs/help.psd1 and the built cmdlets, in a separate process that imports them.
    Invoke-Native 'help generation' { dotnet pwsh -NoProfile -File (Join-Path $Root 'tools/New-ModuleHelp.ps1') -ModulePath (Join-Path $ModuleDir 'RnnLinearization.psd1') -Source (Join-Path $Root 'docs/help.psd1') -OutFile (Join-Path $ModuleDir 'en-US/RnnLinearization.dll-Help.xml') }
}

# The module as a NuGet package, made the way PowerShell Gallery packages are made: Publish-PSResource into a local
# repository (a folder, registered under a unique name for the moment and unregistered after).
function Invoke-Package {
    Invoke-Build
    $version = (Import-PowerShellDataFile (Join-Path $Root 'RnnLinearization.psd1')).ModuleVersion
    $package = Join-Path $Out "RnnLinearization.$version.nupkg"
    $repository = Join-Path $Out 'package-repository'
    Remove-Item $repository -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory $repository | Out-Null
    $name = "RnnLinearizationBuild-$PID"
    Write-Host "Packing $package" -ForegroundColor Cyan
    Register-PSResourceRepository -Name $name -Uri $repository -Trusted
    try { Publish-PSResource -Path $ModuleDir -Repository $name -SkipDependenciesCheck }
    finally { Unregister-PSResourceRepository -Name $name }
    Move-Item (Join-Path $repository "RnnLinearization.$version.nupkg") $package -Force
    Remove-Item $repository -Recurse -Force
    Get-Item $package
}

function Get-NuGetPackagesFolder {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = dotnet nuget locals global-packages --list | Select-Object -First 1
    return ($line -replace '^global-packages:\s*', '').Trim()
}

# The Export-RnnResult tests read its .npz with numpy itself: Debian's python3-numpy, installed here when missing.
function Install-TestPython {
    & /usr/bin/python3 -c 'import numpy' 2>$null
    if ($LASTEXITCODE -eq 0) { return }
    if ((Get-Command apt-get -ErrorAction Ignore) -and ((id -u) -eq '0')) {
        Write-Host 'Installing python3-numpy with apt-get (the tests read .npz files with numpy)' -ForegroundColor Cyan
        $env:DEBIAN_FRONTEND = 'noninteractive'
        apt-get update -qq | Out-Null
        apt-get install -y -qq python3-numpy | Out-Null
    }
    & /usr/bin/python3 -c 'import numpy' 2>$null
    if ($LASTEXITCODE -ne 0) { throw 'python3-numpy is missing and could not be installed (needs Debian apt-get as root); install it with: apt-get install python3-numpy' }
}

function Invoke-Test {
    Install-TestPython
    Invoke-Package | Out-Null
    $results = Join-Path $Out 'test-results'
    Remove-Item $results -Recurse -Force -ErrorAction SilentlyContinue
    New-Item -ItemType Directory $results -Force | Out-Null

    Build-CoreTests
    Write-Host 'Running xunit tests' -ForegroundColor Cyan
    dotnet test $CoreTests -c $Configuration --no-build --nologo --logger "trx;LogFileName=xunit.trx" --results-directory $results
    $trx = [xml](Get-Content (Join-Path $results 'xunit.trx') -Raw)
    $counters = $trx.TestRun.ResultSummary.Counters
    $xPassed = [int]$counters.passed
    $xFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $xNotRun = [int]$counters.total - [int]$counters.executed

    # Pester in a fresh process, as a user would import the built module.
    $pester = Join-Path (Get-NuGetPackagesFolder) 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $pester)) { throw "Pester not found at $pester; 'dotnet restore $CoreTests' downloads it." }
    Write-Host 'Running Pester tests' -ForegroundColor Cyan
    $summary = Join-Path $results 'pester.json'
    Invoke-Native 'pwsh (Pester)' { dotnet pwsh -NoProfile -File (Join-Path $Root 'tests/Invoke-PesterTests.ps1') -PesterPath $pester -ModulePath (Join-Path $ModuleDir 'RnnLinearization.psd1') -SummaryPath $summary }
    $p = Get-Content $summary -Raw | ConvertFrom-Json

    $passed = $xPassed + $p.Passed
    $failed = $xFailed + $xNotRun + $p.Failed + $p.NotRun
    Write-Host "xunit: $xPassed passed, $xFailed failed, $xNotRun not run; Pester: $($p.Passed) passed, $($p.Failed) failed, $($p.NotRun) not run"
    Write-Output "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Invoke-Native 'Demo' { dotnet pwsh -NoProfile -File (Join-Path $Root 'examples/Demo.ps1') -ModulePath (Join-Path $ModuleDir 'RnnLinearization.psd1') }
}

function Invoke-Bench {
    Invoke-Build
    Invoke-Native 'Bench' { dotnet pwsh -NoProfile -File (Join-Path $Root 'bench/Invoke-Benchmark.ps1') -ModulePath (Join-Path $ModuleDir 'RnnLinearization.psd1') -OutDir (Join-Path $Out 'bench') }
    Invoke-Fuzz
    Write-Host 'Soak: 5 minutes of Jacobians, spectra, Taylor steps and fixed points' -ForegroundColor Cyan
    Invoke-Native 'Soak' { dotnet pwsh -NoProfile -File (Join-Path $Root 'bench/Invoke-Soak.ps1') -ModulePath (Join-Path $ModuleDir 'RnnLinearization.psd1') -Minutes 5 -OutFile (Join-Path $Out 'bench/soak.json') }
}

function Build-CoreTests {
    Write-Host 'Building the xunit tests' -ForegroundColor Cyan
    Invoke-Native 'dotnet build (tests)' { dotnet build $CoreTests -c $Configuration --nologo -v quiet }
    Repair-Natives (Join-Path $CoreTests 'bin')
}

# The fuzz tests of the Test task, with 1,112 cases per file instead of 150 (13 files: 14,456 mutated files in all).
function Invoke-Fuzz {
    Build-CoreTests
    $results = Join-Path $Out 'fuzz-results'
    Remove-Item $results -Recurse -Force -ErrorAction Ignore
    $env:RNN_FUZZ_CASES = '1112'
    try {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        dotnet test $CoreTests -c $Configuration --no-build --nologo --filter 'FullyQualifiedName~FuzzTests' --logger 'trx;LogFileName=fuzz.trx' --results-directory $results | Out-Null
        $counters = ([xml](Get-Content (Join-Path $results 'fuzz.trx') -Raw)).TestRun.ResultSummary.Counters
    }
    finally { Remove-Item Env:RNN_FUZZ_CASES }
    Write-Output ("Fuzz: {0} files x 1,112 mutations = {1:N0} cases in {2:0} s; {3} passed, {4} failed" -f
        $counters.total, (1112 * [int]$counters.total), $watch.Elapsed.TotalSeconds, $counters.passed, $counters.failed)
    if ([int]$counters.failed -gt 0 -or [int]$counters.passed -eq 0) { throw 'Fuzzing found a failure (see out/fuzz-results).' }
}

function Invoke-ClusterTest {
    Install-TestPython
    Invoke-Build
    Invoke-Native 'ClusterTest' { dotnet pwsh -NoProfile -File (Join-Path $Root 'tools/Invoke-ClusterTest.ps1') -Root $Root -ModulePath (Join-Path $ModuleDir 'RnnLinearization.psd1') }
}

function Invoke-Clean {
    Remove-Item $Out -Recurse -Force -ErrorAction SilentlyContinue
    Get-ChildItem $Root -Directory -Recurse -Include bin, obj | Where-Object FullName -NotLike '*/.git/*' | Remove-Item -Recurse -Force
}

Push-Location $Root
try {
    switch ($Task) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Package' { Invoke-Package }
        'Fuzz' { Invoke-Fuzz }
        'ClusterTest' { Invoke-ClusterTest }
        'Clean' { Invoke-Clean }
    }
}
finally { Pop-Location }
