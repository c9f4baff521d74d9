<#
.SYNOPSIS
    Analyses the bundled 3-bit flip-flop RNN: runs it, then shows the spectrum of its Jacobian at the memory states.
.DESCRIPTION
    The model (flipflop_rnn.pt, trained by train_flipflop.py) holds the sign of the last pulse on each of three
    input channels. Between pulses the state rests near one of its 8 memory states; there the linearisation
    should show slow modes (|lambda| near 1) that hold the memory, and fast modes that pull the state back.
#>
param([string] $ModulePath = (Join-Path $PSScriptRoot '../out/RnnLinearization/RnnLinearization.psd1'))
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

$model = Import-RnnModel (Join-Path $PSScriptRoot 'flipflop_rnn.pt')   # keys rnn.* found without -Prefix
Write-Host "`nThe bundled model: a tanh RNN trained on the 3-bit flip-flop task" -ForegroundColor Cyan
$model | Format-Table | Out-Host

# 80 steps of input: a pulse on one channel every 16 steps, silence between.
$pulses = @{ 4 = @(0, 1.0); 20 = @(1, -1.0); 36 = @(2, 1.0); 52 = @(0, -1.0); 68 = @(1, 1.0) }
$inputs = foreach ($t in 0..79) {
    $x = [double[]](0, 0, 0)
    if ($pulses.ContainsKey($t)) { $x[$pulses[$t][0]] = $pulses[$t][1] }
    , $x
}
$trajectory = Get-RnnTrajectory -Model $model -InputSequence $inputs
Write-Host "Ran $($trajectory.Count) steps; pulses at steps $(($pulses.Keys | Sort-Object) -join ', ')." -ForegroundColor Cyan

# The spectrum where the state has settled, just before each next pulse.
Write-Host "`nSpectrum of the state Jacobian at settled states (zero input). Slow: modes with |lambda| > 0.9; SlowestTau: longest decaying time constant, in steps." -ForegroundColor Cyan
$settled = $trajectory | Where-Object { $_.Index -in 19, 35, 51, 67, 79 }
$settled | Get-RnnEigen -Model $model -PerMode | Group-Object Index | ForEach-Object {
    $modes = $_.Group
    [pscustomobject]@{
        Step       = [int]$_.Name
        Radius     = ($modes | Measure-Object Magnitude -Maximum).Maximum.ToString('0.000')
        Unstable   = @($modes | Where-Object Magnitude -gt 1).Count
        Slow       = @($modes | Where-Object Magnitude -gt 0.9).Count
        SlowestTau = ($modes | Where-Object TimeConstant -gt 0 | Measure-Object TimeConstant -Maximum).Maximum.ToString('0.0')
        Leading    = (($modes | Select-Object -First 3 | ForEach-Object {
            if ($_.Imaginary -eq 0) { '{0:0.###}' -f $_.Real } else { '{0:0.###}{1:+0.###;-0.###}i' -f $_.Real, $_.Imaginary } }) -join ', ')
    }
} | Format-Table -AutoSize | Out-Host

Write-Host "The five slowest modes at step 79 (TimeConstant and Period in steps):" -ForegroundColor Cyan
$trajectory[79] | Get-RnnEigen -Model $model -PerMode | Select-Object -First 5 | Format-Table | Out-Host

# How far the first-order Taylor step holds: perturbations of growing size along one random direction.
$rng = [Random]::new(7)
$direction = 1..$model.StateSize | ForEach-Object { $rng.NextDouble() - 0.5 }
$norm = [math]::Sqrt(($direction | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
$rows = foreach ($scale in 0.001, 0.01, 0.1, 0.5) { , [double[]]($direction | ForEach-Object { $scale * $_ / $norm }) }
Write-Host "Taylor step at step 79 against the true step, for perturbations of norm 0.001 to 0.5:" -ForegroundColor Cyan
Invoke-RnnLinearization -Model $model -State $trajectory[79].State -DeltaState $rows -Exact |
    Select-Object Row, @{ n = 'PerturbationNorm'; e = { [math]::Sqrt(($_.DeltaState | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum).ToString('0.###') } },
        @{ n = 'ErrorNorm'; e = { $_.ErrorNorm.ToString('0.00e+0') } } | Format-Table -AutoSize | Out-Host
