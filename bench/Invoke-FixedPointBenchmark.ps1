<#
.SYNOPSIS
    The fixed-point rows of ./build.ps1 -Task Bench: Find-RnnFixedPoint against the toolkits' Adam procedure and a
    batched PyTorch Newton solve, one thread on every side, on the same networks and starts.
.DESCRIPTION
    bench_fixedpoints.py writes the starts (fp_starts_h{H}.npy) and times the PyTorch side (fp_torch.json); this script
    times the cmdlet, module imported, starts already read (as on the PyTorch side): the median of three runs after
    a warm-up. Prints the table and returns the rows (the Bench task adds them to bench.json). Runs alone too:
        dotnet pwsh bench/Invoke-FixedPointBenchmark.ps1 -ModulePath out/RnnLinearization/RnnLinearization.psd1 -OutDir out/bench
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $OutDir = (Join-Path $PSScriptRoot '../out/bench'),
    # Reuses out/bench/fp_torch.json and the starts from an earlier run.
    [switch] $ReuseTorch
)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory $OutDir -Force | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$ModulePath = (Resolve-Path $ModulePath).Path
if (-not $ReuseTorch) {
    & /usr/bin/python3 (Join-Path $PSScriptRoot 'bench_fixedpoints.py') --out $OutDir --threads 1
    if ($LASTEXITCODE -ne 0) { throw "bench_fixedpoints.py failed (exit code $LASTEXITCODE)." }
}
$torch = Get-Content (Join-Path $OutDir 'fp_torch.json') -Raw | ConvertFrom-Json -AsHashtable

Import-Module $ModulePath -Force
$threads = (Get-RnnConfiguration).ThreadCount
Set-RnnConfiguration -ThreadCount 1
try {
    $rows = foreach ($name in $torch.networks.Keys | Sort-Object { $torch.networks[$_].hidden }) {
        $t = $torch.networks[$name]
        $m = Import-RnnModel $t.model
        $starts = [double[][]]@(Import-RnnState (Join-Path $OutDir $t.starts_file) | ForEach-Object { , $_.State })
        $null = Find-RnnFixedPoint -Model $m -InitialState $starts[0..7]   # warm-up
        $runs = foreach ($k in 1..3) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $points = Find-RnnFixedPoint -Model $m -InitialState $starts
            [pscustomobject]@{ Seconds = $watch.Elapsed.TotalSeconds; Points = $points }
        }
        $median = ($runs | Sort-Object Seconds)[1]
        $found = $median.Points
        [pscustomobject]@{
            Network = $name; Hidden = $t.hidden; Starts = $t.starts
            AdamSeconds = $t.adam.seconds; AdamIterations = $t.adam.iterations; AdamPoints = $t.adam.points
            TorchNewtonSeconds = $t.newton.seconds; TorchNewtonPoints = $t.newton.points
            CmdletSeconds = $median.Seconds; CmdletPoints = @($found).Count
            CmdletStable = @($found | Where-Object IsStable).Count; CmdletMaxIterations = ($found | Measure-Object Iterations -Maximum).Maximum
            CmdletMaxQ = ($found | Measure-Object Q -Maximum).Maximum
            VsAdam = $t.adam.seconds / $median.Seconds; VsTorchNewton = $t.newton.seconds / $median.Seconds
        }
    }
}
finally { Set-RnnConfiguration -ThreadCount $threads }

Write-Host "`nFixed points, one thread each side (PyTorch $($torch.torch_version)); seconds for all starts, points after the toolkit's filters." -ForegroundColor Cyan
$rows | Format-Table Network, Hidden, Starts,
    @{ n = 'Adam (toolkits)'; e = { '{0:N2} s, {1} it, {2} pts' -f $_.AdamSeconds, $_.AdamIterations, $_.AdamPoints }; a = 'right' },
    @{ n = 'Torch Newton'; e = { '{0:N3} s, {1} pts' -f $_.TorchNewtonSeconds, $_.TorchNewtonPoints }; a = 'right' },
    @{ n = 'Find-RnnFixedPoint'; e = { '{0:N3} s, {1} pts ({2} stable)' -f $_.CmdletSeconds, $_.CmdletPoints, $_.CmdletStable }; a = 'right' },
    @{ n = 'vs Adam'; e = { '{0:N1}x' -f $_.VsAdam }; a = 'right' }, @{ n = 'vs Torch Newton'; e = { '{0:N2}x' -f $_.VsTorchNewton }; a = 'right' } -AutoSize |
    Out-String -Width 200 | Write-Host
$rows
