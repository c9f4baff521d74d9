<#
.SYNOPSIS
    The Bench's rows for selection vectors, the fixed-point graph and continuation (issue 19), each against the same
    work in numpy (bench/bench_dynamics.py) on the 256-unit flip-flop (bench/flipflop256.pt), one thread on both sides:
    Get-RnnEigen -PerMode -LeftEigenvectors at every fixed point; Get-RnnFixedPointGraph; 100 steps of
    Trace-RnnFixedPoint against 100 times one eigvals and three bordered solves. Runs alone too:
        dotnet pwsh bench/Invoke-DynamicsBenchmark.ps1 -ModulePath out/RnnLinearization/RnnLinearization.psd1 -OutDir out/bench
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $OutDir = (Join-Path $PSScriptRoot '../out/bench')
)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory $OutDir -Force | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$env:OPENBLAS_NUM_THREADS = '1'
Import-Module (Resolve-Path $ModulePath).Path -Force
$threads = (Get-RnnConfiguration).ThreadCount
Set-RnnConfiguration -ThreadCount 1
try {
    $modelFile = Join-Path $PSScriptRoot 'flipflop256.pt'
    $m = Import-RnnModel $modelFile -WarningAction SilentlyContinue
    $pulses = foreach ($t in 1..200) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * ($t % 50 -eq 0) }; , $x }
    $points = Get-RnnTrajectory -Model $m -InputSequence $pulses | Find-RnnFixedPoint -Model $m -Count 256 -Noise 0.5 -Seed 1 -WarningAction SilentlyContinue
    $stable = @($points | Where-Object Kind -eq Stable)
    $saddles = @($points | Where-Object Kind -in 'Saddle', 'Unstable')   # the points the cmdlet leaves
    $pointsFile = Join-Path $OutDir 'dyn_points.npz'
    Remove-Item $pointsFile -ErrorAction SilentlyContinue
    # Two arrays in one .npz, written by numpy from the states the module found.
    $stable | Export-RnnState (Join-Path $OutDir 'dyn_stable.npy') -WarningAction SilentlyContinue
    $saddles | Export-RnnState (Join-Path $OutDir 'dyn_saddles.npy') -WarningAction SilentlyContinue
    & /usr/bin/python3 -c "import numpy as np, sys; np.savez(sys.argv[1], stable=np.load(sys.argv[2]), saddles=np.load(sys.argv[3]))" $pointsFile (Join-Path $OutDir 'dyn_stable.npy') (Join-Path $OutDir 'dyn_saddles.npy')
    & /usr/bin/python3 (Join-Path $PSScriptRoot 'bench_dynamics.py') --model $modelFile --points $pointsFile --out $OutDir | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "bench_dynamics.py failed (exit code $LASTEXITCODE)." }
    $reference = Get-Content (Join-Path $OutDir 'dyn_reference.json') -Raw | ConvertFrom-Json
    $best = { param($body) (1..3 | ForEach-Object { (Measure-Command $body).TotalSeconds } | Measure-Object -Minimum).Minimum }
    $selection = & $best { $null = $points | Get-RnnEigen -Model $m -PerMode -LeftEigenvectors }
    $graph = & $best { $null = $points | Get-RnnFixedPointGraph -Model $m -WarningAction SilentlyContinue }
    # A path on which the branch takes its 100 steps without meeting a fold (toward -1 it turns back after about 47).
    $trace = { $stable[0] | Trace-RnnFixedPoint -Model $m -Component 0 -Range 0, 1 -MaxSteps 101 -MaxStepSize 0.005 }   # 101 points: 100 steps
    $steps = @(& $trace | Where-Object Event -eq None).Count - 1
    if ($steps -ne 100) { throw "The continuation row took $steps steps, not 100: choose another path." }
    $continuation = & $best { $null = & $trace }
    $rows = @(
        [pscustomobject]@{ Workload = "selection vectors, $($points.Count) points"; ReferenceSeconds = $reference.selection_seconds; CmdletSeconds = $selection }
        [pscustomobject]@{ Workload = "fixed-point graph, $($saddles.Count) saddles"; ReferenceSeconds = $reference.graph_seconds; CmdletSeconds = $graph }
        [pscustomobject]@{ Workload = 'continuation, 100 steps'; ReferenceSeconds = $reference.continuation_seconds; CmdletSeconds = $continuation }
    ) | ForEach-Object { $_ | Add-Member -PassThru Ratio ($_.ReferenceSeconds / $_.CmdletSeconds) }
}
finally { Set-RnnConfiguration -ThreadCount $threads }

Write-Host "`nDynamics of the 256-unit flip-flop against numpy $($reference.numpy) doing the same work, one thread each side:" -ForegroundColor Cyan
$rows | Format-Table Workload, @{ n = 'numpy (s)'; e = { '{0:N3}' -f $_.ReferenceSeconds } }, @{ n = 'Cmdlet (s)'; e = { '{0:N3}' -f $_.CmdletSeconds } },
    @{ n = 'vs numpy'; e = { '{0:N2}x' -f $_.Ratio } } -AutoSize | Out-String -Width 200 | Write-Host
$rows
