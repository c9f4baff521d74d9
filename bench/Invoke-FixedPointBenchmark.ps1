<#
.SYNOPSIS
    The fixed-point rows of ./build.ps1 -Task Bench: Find-RnnFixedPoint against the toolkits' Adam procedure and a
    batched PyTorch Newton solve, one thread on every side, on the same networks, starts and inputs.
.DESCRIPTION
    bench_fixedpoints.py draws the starts (fp_starts_<name>.npy), times the PyTorch side and writes the Adam points,
    polished by Newton (fp_adam_polished_<name>.npy), and fp_torch.json: for the bundled flip-flop and the 256-unit one,
    and for the networks of bench/networks (trained by bench/train_networks.py as papers train them: context
    integration, an integrator, GRU and LSTM flip-flops, a leaky rate network, 16- and 64-unit flip-flops, 2-layer GRU
    and LSTM of 128 units; 512 starts, 1,024 for the 16-unit flip-flop, 128 for the 2-layer networks, whose Adam runs
    take minutes). This script times the cmdlet, module imported, starts already read (as on the PyTorch side): the
    median of three runs after a warm-up (one run for the 2-layer networks), and counts the Adam points it finds
    (within 1e-6). Prints the table and returns the rows (the Bench task adds them to bench.json). Runs alone too:
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
$Root = Split-Path $PSScriptRoot
$script = Join-Path $PSScriptRoot 'bench_fixedpoints.py'
if (-not $ReuseTorch) {
    # One thread on the PyTorch side whatever BLAS it links (OpenBLAS keeps its own pool, which torch's setting misses).
    $env:OPENBLAS_NUM_THREADS = '1'
    $runs = @(
        @(), @('--set', 'issue17', '--only', 'ctx64', 'integrator64', 'gru32_flipflop3', 'lstm20_flipflop2', 'leaky64', 'flipflop64'),
        @('--set', 'issue17', '--only', 'flipflop16', '--starts', '1024'), @('--set', 'issue17', '--only', 'gru128x2', 'lstm128x2', '--starts', '128'))
    foreach ($extra in $runs) {
        & /usr/bin/python3 $script --out $OutDir --threads 1 @extra
        if ($LASTEXITCODE -ne 0) { throw "bench_fixedpoints.py failed (exit code $LASTEXITCODE)." }
    }
}
$torch = Get-Content (Join-Path $OutDir 'fp_torch.json') -Raw | ConvertFrom-Json -AsHashtable

function Get-Distance([double[]] $a, [double[]] $b) {
    $d = 0.0
    for ($i = 0; $i -lt $a.Length; $i++) { $d = [math]::Max($d, [math]::Abs($a[$i] - $b[$i])) }
    $d
}

Import-Module $ModulePath -Force
$threads = (Get-RnnConfiguration).ThreadCount
Set-RnnConfiguration -ThreadCount 1
try {
    $rows = foreach ($name in $torch.networks.Keys | Sort-Object { $torch.networks[$_].hidden }, { $_ }) {
        $t = $torch.networks[$name]
        Push-Location $Root
        try { $m = if ($t.ContainsKey('import_command')) { Invoke-Expression "$($t.import_command) -WarningAction SilentlyContinue" } else { Import-RnnModel $t.model } }
        finally { Pop-Location }
        $input = if ($t.ContainsKey('input')) { [double[]]$t.input } else { [double[]]::new($m.InputSize) }
        $starts = [double[][]]@(Import-RnnState (Join-Path $OutDir $t.starts_file) | ForEach-Object { , $_.State })
        $null = Find-RnnFixedPoint -Model $m -Input $input -InitialState $starts[0..7] -WarningAction SilentlyContinue   # warm-up
        $count = if ($m.NumLayers -gt 1) { 1 } else { 3 }
        $runs = foreach ($k in 1..$count) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $points = Find-RnnFixedPoint -Model $m -Input $input -InitialState $starts -InformationVariable info -WarningAction SilentlyContinue
            [pscustomobject]@{ Seconds = $watch.Elapsed.TotalSeconds; Points = $points; Summary = ($info | Where-Object { $_.Tags -contains 'Summary' }).MessageData }
        }
        $median = ($runs | Sort-Object Seconds)[[int][math]::Floor(($count - 1) / 2)]
        $found = @($median.Points)
        $adam = if ($t.adam.ContainsKey('polished_file') -and $t.adam.points -gt 0) { @(Import-RnnState (Join-Path $OutDir $t.adam.polished_file) | ForEach-Object { , $_.State }) } else { @() }
        $covered = @($adam | Where-Object { $a = $_; @($found | Where-Object { (Get-Distance $a $_.State) -le 1e-6 }).Count -gt 0 }).Count
        [pscustomobject]@{
            Network = $name; StateSize = $m.StateSize; Starts = $starts.Count
            AdamSeconds = $t.adam.seconds; AdamIterations = $t.adam.iterations; AdamPoints = $t.adam.points
            TorchNewtonSeconds = $t.newton.seconds; TorchNewtonPoints = $t.newton.points
            CmdletSeconds = $median.Seconds; CmdletPoints = $found.Count; CmdletStable = @($found | Where-Object IsStable).Count
            AdamPointsFound = "$covered/$($adam.Count)"; Failed = $median.Summary.Failed; ProbePoints = $median.Summary.ProbePoints
            VsAdam = $t.adam.seconds / $median.Seconds; VsTorchNewton = $t.newton.seconds / $median.Seconds
        }
    }
}
finally { Set-RnnConfiguration -ThreadCount $threads }

Write-Host "`nFixed points, one thread each side (PyTorch $($torch.torch_version)); seconds for all starts, points after the toolkit's filters." -ForegroundColor Cyan
$rows | Format-Table Network, StateSize, Starts,
    @{ n = 'Adam (toolkits)'; e = { '{0:N2} s, {1} it, {2} pts' -f $_.AdamSeconds, $_.AdamIterations, $_.AdamPoints }; a = 'right' },
    @{ n = 'Torch Newton'; e = { '{0:N3} s, {1} pts' -f $_.TorchNewtonSeconds, $_.TorchNewtonPoints }; a = 'right' },
    @{ n = 'Find-RnnFixedPoint'; e = { '{0:N3} s, {1} pts ({2} stable)' -f $_.CmdletSeconds, $_.CmdletPoints, $_.CmdletStable }; a = 'right' },
    @{ n = 'Adam pts found'; e = { $_.AdamPointsFound }; a = 'right' }, @{ n = 'failed'; e = { $_.Failed }; a = 'right' },
    @{ n = 'vs Adam'; e = { '{0:N1}x' -f $_.VsAdam }; a = 'right' }, @{ n = 'vs Torch Newton'; e = { '{0:N2}x' -f $_.VsTorchNewton }; a = 'right' } -AutoSize |
    Out-String -Width 220 | Write-Host
$rows
