# Left eigenvectors, selection vectors and per-mode gains (Get-RnnEigen -LeftEigenvectors) against independent numbers:
# PyTorch autograd Jacobians with numpy eig and inv on networks saved as users save them, and a linear network built
# from a chosen eigenbasis (closed form). Fixtures: tests/fixtures/generate_selection.py.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Dir = Join-Path $script:Fixtures 'selection'
    $script:Expected = Get-Content (Join-Path $Dir 'expected.json') -Raw | ConvertFrom-Json -AsHashtable
    function script:Open($network) {
        $options = $network.import
        Import-RnnModel (Join-Path $Dir $network.model) @options -WarningAction SilentlyContinue
    }
    function script:Modes($m, $s) {
        Get-RnnEigen -Model $m -State ([double[]]$s.state) -Input ([double[]]$s.input) -PerMode -LeftEigenvectors
    }
    # The mode whose eigenvalue is nearest numpy's.
    function script:Nearest($modes, $re, $im) {
        $modes | Sort-Object { [math]::Sqrt(($_.Real - $re) * ($_.Real - $re) + ($_.Imaginary - $im) * ($_.Imaginary - $im)) } | Select-Object -First 1
    }
}

Describe 'Get-RnnEigen -LeftEigenvectors against numpy' -ForEach @(
    @{ Name = 'rnn_i3_h7_readout' }, @{ Name = 'gru_i2_h5_2layers_readout' }, @{ Name = 'lstm_i2_h4_readout' }, @{ Name = 'leaky_i2_h6_softplus_readout' }
) {
    BeforeAll {
        $script:Network = $Expected.networks | Where-Object { $_.name -eq $Name }
        $script:Model = Open $Network
    }

    It 'sums the modes'' gains to the readout''s linear response C (I - J)^-1 J_x to 1e-10 (<Name>)' {
        $checked = 0
        foreach ($s in $Network.states) {
            $modes = Modes $Model $s
            $modes.Count | Should -Be $s.eigenvalues.Count
            for ($o = 0; $o -lt $s.total.Count; $o++) {
                for ($j = 0; $j -lt $s.total[$o].Count; $j++) {
                    $sum = 0.0
                    foreach ($mode in $modes) { $sum += $mode.Gain[$o][$j] }
                    [math]::Abs($sum - $s.total[$o][$j]) | Should -BeLessThan 1e-10
                    $checked++
                }
            }
        }
        $checked | Should -BeGreaterThan 0
    }

    It 'gives each mode numpy''s gain and condition number |l_k| |r_k| (<Name>)' {
        foreach ($s in $Network.states) {
            $modes = Modes $Model $s
            for ($k = 0; $k -lt $s.eigenvalues.Count; $k++) {
                $mode = Nearest $modes $s.eigenvalues[$k][0] $s.eigenvalues[$k][1]
                $kappa = $s.condition[$k]
                [math]::Abs($mode.ConditionNumber - $kappa) / $kappa | Should -BeLessThan (1e-12 * $kappa * $kappa)
                # A mode's gain is as sensitive as its eigenvector pair: errors grow as kappa^2 (kappa reaches 166 here).
                $tolerance = 1e-13 * $kappa * $kappa * 10
                for ($o = 0; $o -lt $s.gains[$k].Count; $o++) {
                    for ($j = 0; $j -lt $s.gains[$k][$o].Count; $j++) {
                        [math]::Abs($mode.Gain[$o][$j] - $s.gains[$k][$o][$j]) | Should -BeLessThan $tolerance
                    }
                }
            }
        }
    }

    It 'gives left eigenvectors with l_k J = lambda_k l_k and L R = I to 1e-10 (<Name>)' {
        $s = $Network.states[0]
        $j = Get-RnnJacobian -Model $Model -State ([double[]]$s.state) -Input ([double[]]$s.input)
        $e = $j | Get-RnnEigen -LeftEigenvectors
        $n = $e.Eigenvalues.Count
        for ($k = 0; $k -lt $n; $k++) {
            $l = $e.LeftEigenvectors[$k]
            for ($c = 0; $c -lt $n; $c++) {
                $lj = [System.Numerics.Complex]::Zero
                for ($i = 0; $i -lt $n; $i++) { $lj += $l[$i] * $j.StateJacobian[$i][$c] }
                ($lj - $e.Eigenvalues[$k] * $l[$c]).Magnitude | Should -BeLessThan 1e-10
            }
            for ($m2 = 0; $m2 -lt $n; $m2++) {
                $dot = [System.Numerics.Complex]::Zero
                for ($i = 0; $i -lt $n; $i++) { $dot += $l[$i] * $e.Eigenvectors[$m2][$i] }
                ($dot - ($k -eq $m2 ? 1 : 0)).Magnitude | Should -BeLessThan 1e-10
            }
        }
    }

    It 'gives the same modes from piped Jacobians as from states, readout overlaps included (<Name>)' {
        $s = $Network.states[1]
        $fromStates = Modes $Model $s
        $fromJacobians = Get-RnnJacobian -Model $Model -State ([double[]]$s.state) -Input ([double[]]$s.input) | Get-RnnEigen -PerMode -LeftEigenvectors
        $fromJacobians.Count | Should -Be $fromStates.Count
        for ($k = 0; $k -lt $fromStates.Count; $k++) {
            $fromJacobians[$k].OutputOverlap.Count | Should -Be $Model.OutputSize
            for ($o = 0; $o -lt $Model.OutputSize; $o++) {
                ($fromJacobians[$k].OutputOverlap[$o] - $fromStates[$k].OutputOverlap[$o]).Magnitude | Should -BeLessThan 1e-12
            }
        }
    }
}

Describe 'Get-RnnEigen -LeftEigenvectors on a network built from its eigenbasis (closed form)' {
    BeforeAll {
        $script:Linear = $Expected.linear
        $script:Model = Open $Linear
        # A linear network: the state and input do not matter.
        $script:Modes = Get-RnnEigen -Model $Model -State ([double[]](0.1, -0.2, 0.3, 0.4)) -PerMode -LeftEigenvectors
    }

    It 'finds the chosen eigenvalues in order of magnitude' {
        $Modes.Count | Should -Be 4
        for ($k = 0; $k -lt 4; $k++) { [math]::Abs($Modes[$k].Real - $Linear.eigenvalues[$k]) | Should -BeLessThan 1e-12 }
    }

    It 'gives the rows of R^-1 as selection vectors, with the sign of the right eigenvector' {
        for ($k = 0; $k -lt 4; $k++) {
            # LAPACK may return -r_k; l_k then comes as -(row k of R^-1).
            $sign = [math]::Sign(($Modes[$k].RightEigenvector | ForEach-Object Real | Select-Object -First 4 | ForEach-Object -Begin { $i = 0; $d = 0.0 } -Process { $d += $_ * $Linear.right[$k][$i]; $i++ } -End { $d }))
            $sign | Should -Not -Be 0
            for ($i = 0; $i -lt 4; $i++) {
                [math]::Abs($Modes[$k].RightEigenvector[$i].Real - $sign * $Linear.right[$k][$i]) | Should -BeLessThan 1e-12
                [math]::Abs($Modes[$k].SelectionVector[$i].Real - $sign * $Linear.left[$k][$i]) | Should -BeLessThan 1e-12
                [math]::Abs($Modes[$k].SelectionVector[$i].Imaginary) | Should -BeLessThan 1e-15
            }
        }
    }

    It 'gives input overlaps 2, 1 and 0: input 0 drives mode 0 alone and input 1 mode 1 alone' {
        for ($k = 0; $k -lt 4; $k++) {
            for ($j = 0; $j -lt 2; $j++) {
                [math]::Abs($Modes[$k].InputOverlap[$j].Magnitude - $Linear.input_overlap[$k][$j]) | Should -BeLessThan 1e-12
            }
        }
    }

    It 'gives the gains (C r_k)(l_k J_x)/(1 - lambda_k), 40 C r_0 for input 0 through the slow mode' {
        for ($k = 0; $k -lt 4; $k++) {
            for ($o = 0; $o -lt 2; $o++) {
                for ($j = 0; $j -lt 2; $j++) { [math]::Abs($Modes[$k].Gain[$o][$j] - $Linear.gains[$k][$o][$j]) | Should -BeLessThan 1e-11 }
                [math]::Abs($Modes[$k].OutputOverlap[$o].Magnitude - [math]::Abs($Linear.output_overlap[$k][$o])) | Should -BeLessThan 1e-12
            }
        }
        $Modes[0].ConditionNumber | Should -BeGreaterThan 1 -Because 'R is not orthogonal, so the modes are not normal'
    }
}

Describe 'Find-RnnFixedPoint -LeftEigenvectors' {
    It 'gives each point its modes, with the closed-form gains at the linear network''s one fixed point' {
        $m = Open $Expected.linear
        $p = Find-RnnFixedPoint -Model $m -InitialState ([double[][]]@(, [double[]](0.3, 0.1, -0.2, 0.5))) -LeftEigenvectors
        @($p).Count | Should -Be 1
        $p.Modes.Count | Should -Be 4
        for ($k = 0; $k -lt 4; $k++) {
            $p.Modes[$k].Index | Should -Be $p.Index
            for ($o = 0; $o -lt 2; $o++) {
                for ($j = 0; $j -lt 2; $j++) { [math]::Abs($p.Modes[$k].Gain[$o][$j] - $Expected.linear.gains[$k][$o][$j]) | Should -BeLessThan 1e-11 }
            }
        }
        (Find-RnnFixedPoint -Model $m -InitialState ([double[][]]@(, [double[]](0.3, 0.1, -0.2, 0.5)))).Modes | Should -BeNullOrEmpty
    }
}

Describe 'Times in the model''s own unit (Import-RnnModel -Dt)' {
    BeforeAll {
        $options = $Expected.linear.import
        $script:Timed = Import-RnnModel (Join-Path $Dir $Expected.linear.model) @options -Dt 0.02
        $script:Lambda = [double[]]$Expected.linear.eigenvalues
    }

    It 'keeps the step as Dt and shows it' {
        $Timed.Dt | Should -Be 0.02
        ($Timed | Format-Table | Out-String) | Should -BeLike '*dt 0.02*'
        $options = $Expected.linear.import
        (Import-RnnModel (Join-Path $Dir $Expected.linear.model) @options).Dt | Should -BeNullOrEmpty
    }

    It 'gives time constants -dt/ln|lambda| and continuous eigenvalues ln(lambda)/dt for the known spectrum' {
        $modes = Get-RnnEigen -Model $Timed -State ([double[]](0, 0, 0, 0)) -PerMode
        for ($k = 0; $k -lt 4; $k++) {
            $want = -0.02 / [math]::Log([math]::Abs($Lambda[$k]))
            [math]::Abs($modes[$k].TimeConstant - $want) / $want | Should -BeLessThan 1e-10
            $modes[$k].Dt | Should -Be 0.02
            $c = [System.Numerics.Complex]::Log([System.Numerics.Complex]::new($Lambda[$k], 0)) / 0.02
            ($modes[$k].ContinuousEigenvalue - $c).Magnitude | Should -BeLessThan 1e-8
        }
        [math]::Abs($modes[2].ContinuousEigenvalue.Imaginary - [math]::PI / 0.02) | Should -BeLessThan 1e-8 -Because 'a negative eigenvalue flips sign every step: half a turn per step'
    }

    It 'gives fixed points'' time constants in time, and Lyapunov rates per time unit' {
        $p = Find-RnnFixedPoint -Model $Timed -InitialState ([double[][]]@(, [double[]](0.3, 0.1, -0.2, 0.5)))
        $p.Dt | Should -Be 0.02
        [math]::Abs($p.SlowestTimeConstant - (-0.02 / [math]::Log(0.95))) | Should -BeLessThan 1e-9
        $p.ContinuousEigenvalues.Count | Should -Be 4
        $l = Get-RnnLyapunovSpectrum -Model $Timed -WarmUp 100 -Steps 500
        $l.Unit | Should -Be '1/time'
        [math]::Abs($l.Exponents[0] - [math]::Log(0.95) / 0.02) | Should -BeLessThan 1e-6
    }

    It 'refuses a Dt that is not a positive time (InvalidDt)' {
        { $Timed.Dt = -1 } | Should -Throw '*Dt is the time of one step*'
    }
}

Describe 'Get-RnnEigen -LeftEigenvectors errors and plain output' {
    It 'refuses -LeftEigenvectors with -NoEigenvectors (ConflictingParameters)' {
        $m = New-RnnModel -Architecture Rnn -InputSize 1 -HiddenSize 3 -Seed 1
        { Get-RnnEigen -Model $m -State 0, 0, 0 -LeftEigenvectors -NoEigenvectors -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConflictingParameters,RnnLinearization.GetRnnEigenCommand'
    }

    It 'warns once where a Jacobian is defective (a Jordan block), and marks the modes by their condition number' {
        $jordan = [RnnLinearization.RnnJacobian]@{ Index = 0; State = [double[]](0, 0); StateJacobian = [double[][]]@([double[]](0.5, 1), [double[]](0, 0.5)); InputJacobian = [double[][]]@([double[]](1), [double[]](0)) }
        $fine = [RnnLinearization.RnnJacobian]@{ Index = 1; State = [double[]](0, 0); StateJacobian = [double[][]]@([double[]](0.5, 0), [double[]](0, 0.2)); InputJacobian = [double[][]]@([double[]](1), [double[]](0)) }
        $out = $jordan, $jordan, $fine | Get-RnnEigen -PerMode -LeftEigenvectors -WarningVariable warned -WarningAction SilentlyContinue
        @($warned).Count | Should -Be 1
        "$warned" | Should -BeLike '*State 0*defective*'
        @($out).Count | Should -Be 6
        ($out | Where-Object Index -eq 0 | Measure-Object ConditionNumber -Maximum).Maximum | Should -BeGreaterThan 1e8
        ($out | Where-Object Index -eq 1 | Measure-Object ConditionNumber -Maximum).Maximum | Should -BeLessThan 1.000001 -Because 'a diagonal J is normal'
    }

    It 'gives an infinite gain, of the numerator''s sign, to a mode at lambda = 1 (a perfect integrator)' {
        $j = [RnnLinearization.RnnJacobian]@{ Index = 0; State = [double[]](0, 0); StateJacobian = [double[][]]@([double[]](1, 0), [double[]](0, 0.5))
            InputJacobian = [double[][]]@([double[]](2), [double[]](1)); OutputJacobian = [double[][]]@(, [double[]](-1, 1)) }
        $modes = $j | Get-RnnEigen -PerMode -LeftEigenvectors -WarningVariable warned -WarningAction SilentlyContinue
        "$warned" | Should -BeLike '*|1 - lambda| = 0.0e+0*Gain*not reliable*'
        $one = $modes | Where-Object Real -eq 1
        [double]::IsNegativeInfinity($one.Gain[0][0]) | Should -BeTrue -Because '(C r)(l J_x) = (-1)(2) < 0'
        ($modes | Where-Object Real -eq 0.5).Gain[0][0] | Should -Be 2 -Because '(1)(1) / (1 - 0.5)'
        $j.StateJacobian[0][0] = 0.9
        $null = $j | Get-RnnEigen -PerMode -LeftEigenvectors -WarningVariable calm -WarningAction SilentlyContinue
        "$calm" | Should -Not -BeLike '*1 - lambda*' -Because '|1 - lambda| = 0.1 is resolved'
    }

    It 'exports the per-mode rows to CSV and JSON' {
        $m = Open $Expected.networks[0]
        $modes = Modes $m $Expected.networks[0].states[0]
        $json = $modes | ConvertTo-Json -Depth 5 | ConvertFrom-Json
        $json[0].Gain.Count | Should -Be 2
        $modes | Export-Csv -Path (Join-Path $TestDrive 'modes.csv')
        (Import-Csv (Join-Path $TestDrive 'modes.csv')).Count | Should -Be 7
    }
}
