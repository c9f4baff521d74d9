<#
.SYNOPSIS
    The Lyapunov rows of ./build.ps1 -Task Bench: Get-RnnLyapunovSpectrum against the per-step work of Engelken's demo
    code (bench/bench_lyapunov.py, numpy) on its chaotic rate network, N = 100, 200, 400, the full spectrum over the same
    12,000 steps; one thread on both sides. Also: 8 trajectories in one call against one, per trajectory.
    Runs alone too:
        dotnet pwsh bench/Invoke-LyapunovBenchmark.ps1 -ModulePath out/RnnLinearization/RnnLinearization.psd1 -OutDir out/bench
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $OutDir = (Join-Path $PSScriptRoot '../out/bench'),
    [int[]] $Sizes = @(100, 200, 400)
)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory $OutDir -Force | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$env:OPENBLAS_NUM_THREADS = '1'
& /usr/bin/python3 (Join-Path $PSScriptRoot 'bench_lyapunov.py') --out $OutDir --sizes @Sizes
if ($LASTEXITCODE -ne 0) { throw "bench_lyapunov.py failed (exit code $LASTEXITCODE)." }
$reference = Get-Content (Join-Path $OutDir 'lyap_reference.json') -Raw | ConvertFrom-Json -AsHashtable

Import-Module (Resolve-Path $ModulePath).Path -Force
$threads = (Get-RnnConfiguration).ThreadCount
Set-RnnConfiguration -ThreadCount 1
try {
    $rows = foreach ($n in $Sizes) {
        $r = $reference.networks["$n"]
        $m = Import-RnnModel (Join-Path $OutDir $r.file) -Architecture LeakyRnn -Alpha $reference.dt -Nonlinearity Tanh
        # The demo's run: its 1,000 state-only steps and 1,000 unaveraged tangent steps are the warm-up here (which
        # carries the tangent vectors through all 2,000), then 10,000 averaged steps.
        $warm = $reference.transient + $reference.transient_ons
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $l = Get-RnnLyapunovSpectrum -Model $m -WarmUp $warm -Steps $reference.steps -OrthonormalizeEvery $reference.every -Dt $reference.dt
        $seconds = $watch.Elapsed.TotalSeconds
        [pscustomobject]@{
            N = $n; Steps = $warm + $reference.steps; ReferenceSeconds = $r.seconds; CmdletSeconds = $seconds; Ratio = $r.seconds / $seconds
            ReferenceLargest = $r.exponents[0] / $reference.dt; CmdletLargest = $l.MaxExponent; CmdletInterval = ($l.Upper[0] - $l.Lower[0]) / 2
        }
    }
    # Batching: 8 trajectories of the 100-unit network in one call, against one trajectory, per trajectory.
    $m = Import-RnnModel (Join-Path $OutDir $reference.networks["$($Sizes[0])"].file) -Architecture LeakyRnn -Alpha $reference.dt -Nonlinearity Tanh
    $starts = [double[][]]@(1..8 | ForEach-Object { $k = $_; , [double[]](1..$m.StateSize | ForEach-Object { 3 * [math]::Sin($k * $_) }) })
    $one = (Measure-Command { $null = Get-RnnLyapunovSpectrum -Model $m -InitialState $starts[0..0] -WarmUp 200 -Steps 2000 }).TotalSeconds
    $eight = (Measure-Command { $null = Get-RnnLyapunovSpectrum -Model $m -InitialState $starts -WarmUp 200 -Steps 2000 }).TotalSeconds
    $batch = [pscustomobject]@{ N = $m.StateSize; Steps = 2200; OneSeconds = $one; EightSeconds = $eight; PerTrajectoryGain = 8 * $one / $eight }
}
finally { Set-RnnConfiguration -ThreadCount $threads }

Write-Host "`nLyapunov spectra, one thread each side (numpy $($reference.numpy)); full spectrum, seconds for 12,000 steps." -ForegroundColor Cyan
$rows | Format-Table N, Steps, @{ n = 'Reference (s)'; e = { '{0:N2}' -f $_.ReferenceSeconds } }, @{ n = 'Cmdlet (s)'; e = { '{0:N2}' -f $_.CmdletSeconds } },
    @{ n = 'vs reference'; e = { '{0:N2}x' -f $_.Ratio } }, @{ n = 'Largest (ref, 1/tau)'; e = { '{0:N4}' -f $_.ReferenceLargest } },
    @{ n = 'Largest (cmdlet)'; e = { '{0:N4} +- {1:N4}' -f $_.CmdletLargest, $_.CmdletInterval } } -AutoSize | Out-String -Width 200 | Write-Host
Write-Host ("8 trajectories of {0} units in one call: {1:N2} s; one: {2:N2} s; per trajectory {3:N1}x cheaper batched." -f $batch.N, $batch.EightSeconds, $batch.OneSeconds, $batch.PerTrajectoryGain)
[pscustomobject]@{ Rows = $rows; Batch = $batch }
