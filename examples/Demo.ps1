<#
.SYNOPSIS
    Analyses the bundled 3-bit flip-flop RNN: runs it, finds its fixed points, and linearises it there.
.DESCRIPTION
    The model (flipflop_rnn.pt, trained by train_flipflop.py) holds the sign of the last pulse on each of three
    input channels. Its memories are 8 stable fixed points, one per sign pattern of the readout, with saddles
    between them; at a stable point the linearisation shows slow modes (|lambda| near 1) that hold the memory and
    fast modes that pull the state back. The demo finds them from the trajectory's states, shows the flow field in
    the trajectory's principal plane, how far the Taylor step holds at a memory, and the Lyapunov spectrum free and
    driven, and draws six pictures.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/RnnLinearization/RnnLinearization.psd1'),
    # Where the six pictures go (the README shows copies of them from docs/images).
    [string] $PictureDir = (Join-Path $PSScriptRoot '../out/demo')
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

$model = Import-RnnModel (Join-Path $PSScriptRoot 'flipflop_rnn.pt')   # keys rnn.* found without -Prefix
Write-Host "`nThe bundled model: a tanh RNN trained on the 3-bit flip-flop task" -ForegroundColor Cyan
$model | Format-Table Architecture, InputSize, HiddenSize, StateSize, Nonlinearity, OutputSize -AutoSize | Out-Host   # fits an 80-column log

# 80 steps of input: a pulse on one channel every 16 steps, silence between.
$pulses = @{ 4 = @(0, 1.0); 20 = @(1, -1.0); 36 = @(2, 1.0); 52 = @(0, -1.0); 68 = @(1, 1.0) }
$inputs = foreach ($t in 0..79) {
    $x = [double[]](0, 0, 0)
    if ($pulses.ContainsKey($t)) { $x[$pulses[$t][0]] = $pulses[$t][1] }
    , $x
}
$trajectory = Get-RnnTrajectory -Model $model -InputSequence $inputs
Write-Host "Ran $($trajectory.Count) steps; pulses at steps $(($pulses.Keys | Sort-Object) -join ', ')." -ForegroundColor Cyan

# The fixed points: searched from 512 noisy states of the trajectory, each with its linearisation and readout.
Write-Host "`nFixed points (Find-RnnFixedPoint from 512 noisy trajectory states; Output: the readout, the memory it holds):" -ForegroundColor Cyan
$watch = [Diagnostics.Stopwatch]::StartNew()
$fixed = $trajectory | Find-RnnFixedPoint -Model $model -Count 512 -Noise 0.5 -Seed 1
$watch.Stop()
# Short column names, so that the readout fits an 80-column log.
$fixed | Select-Object Index, Kind, @{ n = 'Q'; e = { $_.Q.ToString('0.0e+0') } }, @{ n = 'Starts'; e = { $_.StartCount } },
    @{ n = 'Unstable'; e = { $_.UnstableCount } }, @{ n = 'Radius'; e = { $_.SpectralRadius.ToString('0.000') } },
    @{ n = 'Tau'; e = { $_.SlowestTimeConstant.ToString('0.0') } },
    @{ n = 'Output'; e = { ($_.Output | ForEach-Object { $_.ToString('+0.00;-0.00') }) -join ' ' } } | Format-Table -AutoSize | Out-Host
$stable = @($fixed | Where-Object IsStable)
Write-Host ("{0} stable points (the memories: {1} distinct sign patterns), {2} saddles, found in {3:0.00} s." -f $stable.Count,
    @($stable | ForEach-Object { ($_.Output | ForEach-Object { [math]::Sign($_) }) -join '' } | Sort-Object -Unique).Count,
    @($fixed | Where-Object Kind -eq Saddle).Count, $watch.Elapsed.TotalSeconds) -ForegroundColor Cyan

Write-Host "`nThe five slowest modes at the first stable point (TimeConstant and Period in steps):" -ForegroundColor Cyan
$stable[0] | Get-RnnEigen -Model $model -PerMode | Select-Object -First 5 | Format-Table | Out-Host

Write-Host "`nTheir selection vectors (Mante et al. 2013): |l_k J_x| says how strongly" -ForegroundColor Cyan
Write-Host "each input drives a mode; Gain, its share of output 0's lasting response" -ForegroundColor Cyan
Write-Host "to a step of input 0." -ForegroundColor Cyan
$stable[0] | Get-RnnEigen -Model $model -PerMode -LeftEigenvectors | Select-Object -First 3 Mode, @{ n = 'Magnitude'; e = { $_.Magnitude.ToString('0.000') } },
    @{ n = '|l_k J_x| per input'; e = { ($_.InputOverlap | ForEach-Object { $_.Magnitude.ToString('0.00') }) -join '  ' } },
    @{ n = 'Gain 0 <- 0'; e = { $_.Gain[0][0].ToString('+0.000;-0.000') } } | Format-Table -AutoSize | Out-Host

# The fixed-point graph (Maheswaranathan et al. 2019): where each saddle's unstable modes lead.
$edges = $fixed | Get-RnnFixedPointGraph -Model $model
$bits = @{}
foreach ($p in $stable) { $bits[$p.Index] = ($p.Output | ForEach-Object { if ($_ -gt 0) { '+' } else { '-' } }) -join '' }
Write-Host ("`nFixed-point graph: {0} runs off {1} saddles, {2} settled at a memory. Each index-1 saddle lies" -f $edges.Count,
    @($edges | Group-Object From).Count, @($edges | Where-Object Outcome -eq Settled).Count) -ForegroundColor Cyan
Write-Host "between two memories (output signs) that differ in one bit:" -ForegroundColor Cyan
$edges | Where-Object FromUnstableCount -eq 1 | Group-Object From | Select-Object -First 4 @{ n = 'Saddle'; e = { $_.Name } },
    @{ n = 'Joins'; e = { ($_.Group | ForEach-Object { $bits[$_.To] }) -join ' and ' } },
    @{ n = 'Steps'; e = { ($_.Group | ForEach-Object Steps) -join ', ' } } | Format-Table -AutoSize | Out-Host

# The fixed point at input 0 = -1 followed as that input is swept to +1: the folds where memories vanish.
$sweep = $trajectory | Find-RnnFixedPoint -Model $model -Input -1, 0, 0 -Count 512 -Noise 0.5 -Seed 1 |
    Trace-RnnFixedPoint -Model $model -Component 0 -Range -1, 1
$folds = @($sweep | Where-Object Event -eq Fold)
$along = @($sweep | Where-Object Event -eq None)
$crossings = @(1..($along.Count - 1) | Where-Object { $along[$_ - 1].Parameter * $along[$_].Parameter -le 0 }).Count
Write-Host ("`nInput 0 swept from -1 to 1 (Trace-RnnFixedPoint): one branch of {0} points" -f $along.Count) -ForegroundColor Cyan
Write-Host ("with {0} folds between inputs {1:0.000} and {2:0.000}; it crosses input 0 {3} times" -f $folds.Count,
    ($folds | Measure-Object Parameter -Minimum).Minimum, ($folds | Measure-Object Parameter -Maximum).Maximum, $crossings) -ForegroundColor Cyan
Write-Host ("(the search at input 0 found {0} fixed points)." -f @($fixed).Count) -ForegroundColor Cyan

# The flow F(h) - h in the plane of the trajectory's first two principal components.
$flow = $trajectory | Get-RnnFlowField -Model $model -GridSize 21
$slowest = $flow | Sort-Object Speed | Select-Object -First 1
Write-Host ("Flow field: {0} grid points in the trajectory's principal plane; speeds from {1:0.0e+0} (at X {2:0.00}, Y {3:0.00}) to {4:0.00}." -f $flow.Count,
    $slowest.Speed, $slowest.X, $slowest.Y, ($flow | Measure-Object Speed -Maximum).Maximum) -ForegroundColor Cyan

# How far the first-order Taylor step holds: perturbations of growing size along one random direction.
$rng = [Random]::new(7)
$direction = 1..$model.StateSize | ForEach-Object { $rng.NextDouble() - 0.5 }
$norm = [math]::Sqrt(($direction | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
$rows = foreach ($scale in 0.001, 0.01, 0.1, 0.5) { , [double[]]($direction | ForEach-Object { $scale * $_ / $norm }) }
Write-Host "Taylor step at the first stable point against the true step, for perturbations of norm 0.001 to 0.5:" -ForegroundColor Cyan
Invoke-RnnLinearization -Model $model -State $stable[0].State -DeltaState $rows -Exact |
    Select-Object Row, @{ n = 'PerturbationNorm'; e = { [math]::Sqrt(($_.DeltaState | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum).ToString('0.###') } },
        @{ n = 'ErrorNorm'; e = { $_.ErrorNorm.ToString('0.00e+0') } } | Format-Table -AutoSize | Out-Host

# How nearby states separate: the Lyapunov spectrum free (no input) and driven by the pulses over and over (the
# 80-step input cycled), from the trajectory's first state, with 95% intervals from 10 segments of each run.
Write-Host "`nLyapunov spectra (Get-RnnLyapunovSpectrum; per step, 200 steps of warm-up, 4,000 averaged):" -ForegroundColor Cyan
$spectra = foreach ($case in @(@{ Name = 'free'; Args = @{} }, @{ Name = 'driven by the pulses'; Args = @{ InputSequence = $inputs } })) {
    $args_ = $case.Args
    $l = Get-RnnLyapunovSpectrum -Model $model -InitialState ([double[][]]@(, $trajectory[0].State)) -WarmUp 200 -Steps 4000 @args_
    [pscustomobject]@{ Condition = $case.Name; Largest = $l.MaxExponent.ToString('0.0000'); Interval = '{0:0.0000} .. {1:0.0000}' -f $l.Lower[0], $l.Upper[0]
        Second = $l.Exponents[1].ToString('0.0000'); KaplanYorke = $l.KaplanYorkeDimension.ToString('0.##'); Spectrum = $l }
}
$spectra | Format-Table Condition, Largest, Interval, Second, KaplanYorke -AutoSize | Out-Host
Write-Host "All negative: the network forgets perturbations, at the rate of its slowest mode, whether it rests at a memory or is driven." -ForegroundColor Cyan

# Six pictures of the same analysis.
New-Item -ItemType Directory $PictureDir -Force | Out-Null
$pictures = @(
    $stable[0], ($fixed | Where-Object Kind -eq Saddle | Select-Object -First 1) |
        Export-RnnPlot (Join-Path $PictureDir 'spectrum.png') -Kind Spectrum -Title 'Eigenvalues at a memory and at a saddle' -PassThru
    @($trajectory) + @($fixed) | Export-RnnPlot (Join-Path $PictureDir 'fixed-points.png') -PassThru
    @($fixed) + @($edges) | Export-RnnPlot (Join-Path $PictureDir 'fixed-point-graph.png') -PassThru
    $sweep | Export-RnnPlot (Join-Path $PictureDir 'bifurcation.png') -Title 'Fixed points as input 0 is swept: folds where memories vanish' -PassThru
    @($flow) + @($trajectory) + @($stable) | Export-RnnPlot (Join-Path $PictureDir 'flow-field.png') -PassThru
    $trajectory | Export-RnnPlot (Join-Path $PictureDir 'trajectory.png') -PassThru
    $trajectory | Get-RnnEigen -Model $model -NoEigenvectors | Export-RnnPlot (Join-Path $PictureDir 'timescales.png') -Title 'Spectral radius and slowest time constant along the trajectory' -PassThru
    $spectra[1].Spectrum | Export-RnnPlot (Join-Path $PictureDir 'lyapunov.png') -Title 'Lyapunov spectrum, driven by the pulses' -PassThru
)
Write-Host "Pictures (Export-RnnPlot) in $((Resolve-Path $PictureDir).Path):" -ForegroundColor Cyan
$pictures | ForEach-Object { Write-Host "  $($_.Name)" }
