# Lyapunov spectra against independent numbers: closed form (a linear network, a rotation with an attracting circle),
# numpy (the QR method and direct simulation on the rate network of Engelken, Wolf & Abbott; slogdet of the module's
# Jacobians). Fixtures: tests/fixtures/generate_lyapunov.py.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Dir = Join-Path $script:Fixtures 'lyapunov'
    $script:Expected = Get-Content (Join-Path $Dir 'expected.json') -Raw | ConvertFrom-Json
    $script:Rate = Import-RnnModel (Join-Path $Dir 'rate64.pt') -Architecture LeakyRnn -Alpha 0.1 -Nonlinearity Tanh
    $script:Threads = (Get-RnnConfiguration).ThreadCount
    Set-RnnConfiguration -ThreadCount 1
}

AfterAll { Set-RnnConfiguration -ThreadCount $script:Threads }

Describe 'Get-RnnLyapunovSpectrum against closed form' {
    It 'gives a linear network''s exponents, log |1 - alpha + alpha d_i|, to 1e-9' {
        $m = Import-RnnModel (Join-Path $Dir 'linear8.pt') -Architecture LeakyRnn -Alpha 0.5 -Nonlinearity Linear
        $l = Get-RnnLyapunovSpectrum -Model $m -WarmUp 500 -Steps 2000
        $l.Count | Should -Be 8
        for ($i = 0; $i -lt 8; $i++) { [math]::Abs($l.Exponents[$i] - $Expected.linear8.exponents[$i]) | Should -BeLessThan 1e-9 }
        # Running sums 0.262, 0.357, 0.306, 0.018, then -0.580: j = 4, D = 4 + 0.018 / 0.598.
        $ky = 4 + ($Expected.linear8.exponents[0..3] | Measure-Object -Sum).Sum / [math]::Abs($Expected.linear8.exponents[4])
        $l.KaplanYorkeDimension | Should -BeGreaterThan ($ky - 1e-8)
        $l.KaplanYorkeDimension | Should -BeLessThan ($ky + 1e-8)
        [math]::Abs($l.EntropyBound - ($Expected.linear8.exponents[0] + $Expected.linear8.exponents[1])) | Should -BeLessThan 1e-9
    }

    It 'gives 0 and log|1 - 2a| on a rotation whose unit circle attracts (a TorchScript cell, autograd Jacobians)' {
        $m = Import-RnnModel (Join-Path $Dir 'circle.pt') -Architecture TorchScript -InputSize 1 -HiddenSize 2
        $l = Get-RnnLyapunovSpectrum -Model $m -InitialState ([double[][]]@(, [double[]](0.3, -0.2))) -WarmUp 300 -Steps 3000
        [math]::Abs($l.Exponents[0]) | Should -BeLessThan 1e-3
        [math]::Abs($l.Exponents[1] - $Expected.circle.exponents[1]) | Should -BeLessThan 1e-6
    }
}

Describe 'Get-RnnLyapunovSpectrum on a chaotic rate network' {
    BeforeAll {
        $r = $Expected.rate64
        $script:Start = [double[][]]@(, [double[]]$r.initial_state)
        $script:L = Get-RnnLyapunovSpectrum -Model $Rate -InitialState $Start -WarmUp $r.warm_up -Steps $r.steps -OrthonormalizeEvery $r.every
    }

    It 'agrees with numpy''s QR method (other rounding, so another chaotic trajectory) within the two intervals' {
        $r = $Expected.rate64
        $L.Count | Should -Be 64
        $L.Interval | Should -Be 'segments'
        for ($i = 0; $i -lt 8; $i++) {
            $allowed = ($L.Upper[$i] - $L.Lower[$i]) / 2 + $r.half_width[$i]
            [math]::Abs($L.Exponents[$i] - $r.exponents[$i]) | Should -BeLessOrEqual $allowed -Because "exponent $i"
        }
        $L.MaxExponent | Should -BeGreaterThan 0 -Because 'g = 4 is chaotic'
        $L.KaplanYorkeDimension | Should -BeGreaterThan 2
    }

    It 'sums its exponents to the mean of log |det J| over the same steps, as numpy''s slogdet of the module''s Jacobians gives it, to 1e-9' {
        $warm, $steps = 50, 300
        $l = Get-RnnLyapunovSpectrum -Model $Rate -InitialState $Start -WarmUp $warm -Steps $steps
        $path = Join-Path $TestDrive 'jacobians.npz'
        Get-RnnTrajectory -Model $Rate -InputSequence (1..($warm + $steps) | ForEach-Object { , [double[]]@(0) }) -InitialState $Start[0] |
            Select-Object -Skip $warm | Get-RnnJacobian -Model $Rate | Export-RnnResult $path
        $mean = & /usr/bin/python3 -c "import numpy as np; j = np.load('$path')['StateJacobian']; print(repr(float(np.linalg.slogdet(j)[1].mean())), len(j))"
        $logdet, $count = "$mean" -split ' '
        [int]$count | Should -Be $steps
        [math]::Abs($l.Sum - [double]$logdet) / [math]::Abs([double]$logdet) | Should -BeLessThan 1e-9
    }

    It 'has the largest exponent that direct simulation of two nearby trajectories gives, within 2%' {
        # Direct simulation with the network's steps alone (Get-RnnTrajectory, no Jacobian): two states 1e-8 apart, their
        # distance renormalised every 10 steps, the mean log growth per step. The same trajectory as the spectrum's.
        $r = $Expected.rate64
        $zero = [double[][]]@(1..10 | ForEach-Object { , [double[]]@(0) })
        $h = (Get-RnnTrajectory -Model $Rate -InputSequence ([double[][]]@(1..$r.warm_up | ForEach-Object { , [double[]]@(0) })) -InitialState $Start[0])[-1].NextState
        $random = [Random]::new(7)
        $direction = [double[]](1..64 | ForEach-Object { $random.NextDouble() - 0.5 })
        $norm = [math]::Sqrt(($direction | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
        $epsilon = 1e-8
        $p = [double[]](0..63 | ForEach-Object { $h[$_] + $epsilon * $direction[$_] / $norm })
        $growth = 0.0
        for ($segment = 0; $segment -lt $r.steps / 10; $segment++) {
            $h = (Get-RnnTrajectory -Model $Rate -InputSequence $zero -InitialState $h)[-1].NextState
            $p = (Get-RnnTrajectory -Model $Rate -InputSequence $zero -InitialState $p)[-1].NextState
            $d = 0.0
            for ($i = 0; $i -lt 64; $i++) { $d += ($p[$i] - $h[$i]) * ($p[$i] - $h[$i]) }
            $d = [math]::Sqrt($d)
            $growth += [math]::Log($d / $epsilon)
            $p = [double[]](0..63 | ForEach-Object { $h[$_] + ($p[$_] - $h[$_]) * $epsilon / $d })
        }
        $direct = $growth / $r.steps
        [math]::Abs($L.MaxExponent - $direct) / $direct | Should -BeLessThan 0.02
        # numpy's own pair (its QR method and its direct simulation, on its trajectory) agree as well.
        [math]::Abs($r.exponents[0] - $r.largest_by_simulation) / $r.largest_by_simulation | Should -BeLessThan 0.02
    }

    It 'takes the interval from the spread of several trajectories, and rates per time unit with -Dt' {
        $starts = [double[][]]@(1..4 | ForEach-Object { $k = $_; , [double[]](0..63 | ForEach-Object { 0.5 * [math]::Sin($k * ($_ + 1)) }) })
        $l = Get-RnnLyapunovSpectrum -Model $Rate -InitialState $starts -WarmUp 500 -Steps 2000 -Count 3 -Dt 0.1 -Local
        $l.Trajectories | Should -Be 4
        $l.Interval | Should -Be 'trajectories'
        $l.Unit | Should -Be '1/time'
        $l.Count | Should -Be 3
        [double]::IsNaN($l.KaplanYorkeDimension) | Should -BeTrue -Because 'the sum of 3 of 64 exponents says only that the dimension is at least 3'
        $l.LocalExponents.Count | Should -Be 40 -Because '4 trajectories x 10 segments'
        # Per time unit: 10 times the per-step rates of the same run.
        $perStep = Get-RnnLyapunovSpectrum -Model $Rate -InitialState $starts -WarmUp 500 -Steps 2000 -Count 3
        for ($i = 0; $i -lt 3; $i++) { [math]::Abs($l.Exponents[$i] - 10 * $perStep.Exponents[$i]) | Should -BeLessThan 1e-12 }
        # The interval from the four trajectories: each one's exponent is the mean of its 10 equal segments (-Local);
        # mean +- t(0.975, 3) s / sqrt(4), with t(0.975, 3) = 3.182446305 from the standard table.
        for ($i = 0; $i -lt 3; $i++) {
            $perRun = foreach ($k in 0..3) { ($l.LocalExponents[(10 * $k)..(10 * $k + 9)] | ForEach-Object { $_[$i] } | Measure-Object -Average).Average }
            $mean = ($perRun | Measure-Object -Average).Average
            $sd = [math]::Sqrt((($perRun | ForEach-Object { ($_ - $mean) * ($_ - $mean) }) | Measure-Object -Sum).Sum / 3)
            [math]::Abs($l.Exponents[$i] - $mean) | Should -BeLessThan 1e-12
            [math]::Abs(($l.Upper[$i] - $l.Lower[$i]) / 2 - 3.182446305 * $sd / 2) | Should -BeLessThan (1e-9 * $sd)
        }
    }

    It 'leaves out of the interval the segments no re-orthonormalisation ended in (fewer blocks than segments)' {
        # 50 steps, a QR every 10: 5 blocks for 10 segments; the interval comes from the 5 filled ones.
        $l = Get-RnnLyapunovSpectrum -Model $Rate -InitialState $Start -WarmUp 100 -Steps 50 -Count 2 -Local
        $l.LocalExponents.Count | Should -Be 5
        $l.LocalExponents | ForEach-Object { $_[0] | Should -Not -Be 0 }
        $first = $l.LocalExponents | ForEach-Object { $_[0] }
        $mean = ($first | Measure-Object -Average).Average
        [math]::Abs($l.Exponents[0] - $mean) | Should -BeLessThan 1e-12 -Because 'equal blocks: the run''s exponent is their mean'
    }
}

Describe 'Get-RnnLyapunovSpectrum output' {
    It 'gives one row per exponent for Export-Csv, and a picture' {
        $m = Import-RnnModel (Join-Path $Dir 'linear8.pt') -Architecture LeakyRnn -Alpha 0.5 -Nonlinearity Linear
        $csv = Join-Path $TestDrive 'exponents.csv'
        Get-RnnLyapunovSpectrum -Model $m -Steps 500 -PerExponent | Export-Csv $csv
        $rows = Import-Csv $csv
        $rows.Count | Should -Be 8
        $rows[0].PSObject.Properties.Name | Should -Be @('Index', 'Exponent', 'Lower', 'Upper', 'Unit')
        [double]$rows[0].Exponent | Should -BeGreaterThan ([double]$rows[7].Exponent)
        $png = Join-Path $TestDrive 'lyapunov.png'
        Get-RnnLyapunovSpectrum -Model $Rate -Steps 500 -WarmUp 100 | Export-RnnPlot $png
        (Get-Item $png).Length | Should -BeGreaterThan 10000
        $json = Get-RnnLyapunovSpectrum -Model $m -Steps 300 | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $json.Exponents.Count | Should -Be 8
    }

    It 'says so when a trajectory diverges, instead of giving NaN' {
        $m = Import-RnnModel (Join-Path $Dir 'linear8.pt') -Architecture LeakyRnn -Alpha 0.5 -Nonlinearity Linear
        # |1 - 0.5 + 0.5 * 1.6| = 1.3 a step: the state overflows after about 2,700 steps; the tangent vectors first.
        { Get-RnnLyapunovSpectrum -Model $m -InitialState ([double[][]]@(, [double[]](1..8))) -WarmUp 0 -Steps 5000 -OrthonormalizeEvery 5000 } |
            Should -Throw -ErrorId 'LyapunovNotFinite,RnnLinearization.GetRnnLyapunovSpectrumCommand'
    }

    It 'gives the exponents largest first after a short run, with their intervals and local values in the same order' {
        # 50 steps of a random network: the QR method leaves near-equal exponents out of order this early.
        $m = New-RnnModel -InputSize 2 -HiddenSize 16 -Seed 2
        $l = Get-RnnLyapunovSpectrum -Model $m -Steps 50 -WarmUp 10 -Seed 1 -OrthonormalizeEvery 5 -Local
        for ($i = 1; $i -lt $l.Exponents.Count; $i++) { $l.Exponents[$i] | Should -BeLessOrEqual $l.Exponents[$i - 1] }
        $l.MaxExponent | Should -Be $l.Exponents[0]
        for ($k = 0; $k -lt $l.Exponents.Count; $k++) {
            # 10 equal segments of 5 steps: an exponent is the mean of its local values, and its interval is around it.
            $mean = ($l.LocalExponents | ForEach-Object { $_[$k] } | Measure-Object -Average).Average
            [math]::Abs($mean - $l.Exponents[$k]) | Should -BeLessThan 1e-12
            $l.Lower[$k] | Should -BeLessOrEqual $l.Exponents[$k]
            $l.Upper[$k] | Should -BeGreaterOrEqual $l.Exponents[$k]
        }
    }

    It 'refuses a pipeline that brings no states (NoInitialStates), rather than starting from a random state' {
        { @() | Get-RnnLyapunovSpectrum -Model $Rate -Steps 10 } | Should -Throw -ErrorId 'NoInitialStates,RnnLinearization.GetRnnLyapunovSpectrumCommand'
        { @(1) | Where-Object { $false } | Get-RnnLyapunovSpectrum -Model $Rate -Steps 10 } | Should -Throw -ErrorId 'NoInitialStates*'
        # Run alone, it starts from a random state, as the help says.
        (Get-RnnLyapunovSpectrum -Model $Rate -Steps 10 -WarmUp 0 -Count 2).Exponents.Count | Should -Be 2
    }

    It 'warns when the run is too short for an interval' {
        $l = Get-RnnLyapunovSpectrum -Model $Rate -Steps 5 -WarmUp 0 -Count 2 -WarningVariable warned -WarningAction SilentlyContinue
        [double]::IsNaN($l.Lower[0]) | Should -BeTrue
        "$warned" | Should -BeLike '*No interval*'
    }

    It 'refuses <Case> with <Id>' -ForEach @(
        @{ Case = 'both -Input and -InputSequence'; Id = 'InputAndSequence'; Extra = @{ Input = [double[]]@(0); InputSequence = [double[][]]@(, [double[]]@(0)) } }
        @{ Case = 'more exponents than state values'; Id = 'InvalidLyapunovCount'; Extra = @{ Count = 65 } }
        @{ Case = 'an input of the wrong length'; Id = 'InputLengthMismatch'; Extra = @{ Input = [double[]](1, 2) } }
        @{ Case = 'an initial state of the wrong length'; Id = 'StateLengthMismatch'; Extra = @{ InitialState = [double[][]]@(, [double[]](1, 2)) } }
    ) {
        { Get-RnnLyapunovSpectrum -Model $Rate -Steps 10 @Extra } | Should -Throw -ErrorId "$Id,RnnLinearization.GetRnnLyapunovSpectrumCommand"
    }
}
