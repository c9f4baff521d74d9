<#
.SYNOPSIS
    Runs the Pester tests against the built module in this (fresh) process and writes a summary for build.ps1.
#>
param(
    [Parameter(Mandatory)][string] $PesterPath,
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $SummaryPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:RNNLINEARIZATION_MODULE = (Resolve-Path $ModulePath).Path
$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = Join-Path (Split-Path $SummaryPath) 'pester.xml'
$result = Invoke-Pester -Configuration $config
[pscustomobject]@{
    Passed = $result.PassedCount
    Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    # An inconclusive check did not check anything: it counts as not run, which fails the build, so a check cannot
    # vanish (a missing tool, a platform it cannot read) while CI stays green.
    NotRun = $result.SkippedCount + $result.NotRunCount + $result.InconclusiveCount
} | ConvertTo-Json | Set-Content $SummaryPath
