# Get-RnnEigen -Top: the modes nearest 1 and the largest, by a partial decomposition, against numpy's full eigvals of
# PyTorch autograd Jacobians (tests/fixtures/generate_topmodes.py), and matrices whose spectra are known in closed form.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Dir = Join-Path $script:Fixtures 'topmodes'
    $script:Expected = Get-Content (Join-Path $Dir 'expected.json') -Raw | ConvertFrom-Json -AsHashtable
    function script:Complex($pair) { [Numerics.Complex]::new($pair[0], $pair[1]) }
    function script:Distance([Numerics.Complex] $a, [Numerics.Complex] $b) { [math]::Sqrt(($a.Real - $b.Real) * ($a.Real - $b.Real) + ($a.Imaginary - $b.Imaginary) * ($a.Imaginary - $b.Imaginary)) }
    # A symmetric matrix Q diag(d) Q' (Q orthogonal from a seeded QR): its eigenvalues are d, its eigenvectors Q's columns.
    function script:Symmetric([double[]] $d, [int] $seed) {
        $n = $d.Count
        $r = [Random]::new($seed)
        $q = [double[][]](1..$n | ForEach-Object { , [double[]](1..$n | ForEach-Object { $r.NextDouble() - 0.5 }) })
        for ($i = 0; $i -lt $n; $i++) {   # Gram-Schmidt on the columns, twice
            for ($pass = 0; $pass -lt 2; $pass++) {
                for ($k = 0; $k -lt $i; $k++) {
                    $dot = 0.0; for ($t = 0; $t -lt $n; $t++) { $dot += $q[$t][$i] * $q[$t][$k] }
                    for ($t = 0; $t -lt $n; $t++) { $q[$t][$i] -= $dot * $q[$t][$k] }
                }
            }
            $norm = 0.0; for ($t = 0; $t -lt $n; $t++) { $norm += $q[$t][$i] * $q[$t][$i] }
            $norm = [math]::Sqrt($norm); for ($t = 0; $t -lt $n; $t++) { $q[$t][$i] /= $norm }
        }
        [double[][]](0..($n - 1) | ForEach-Object { $a = $_; , [double[]](0..($n - 1) | ForEach-Object { $b = $_; $s = 0.0; for ($k = 0; $k -lt $n; $k++) { $s += $q[$a][$k] * $d[$k] * $q[$b][$k] }; $s }) })
    }
    function script:AsJacobian([double[][]] $j) {
        [RnnLinearization.RnnJacobian]@{ Index = 0; State = [double[]]::new($j.Count); StateJacobian = $j; InputJacobian = [double[][]](1..$j.Count | ForEach-Object { , [double[]](0) }) }
    }
}

Describe 'Get-RnnEigen -Top against numpy''s full decomposition (<Name>)' -ForEach @(@{ Name = 'rnn_i3_h96' }, @{ Name = 'gru_i2_h40_2layers' }) {
    BeforeAll {
        $script:Network = $Expected.networks | Where-Object { $_.name -eq $Name }
        $script:M = Import-RnnModel (Join-Path $Dir $Network.model) -WarningAction SilentlyContinue
    }

    It 'finds the <K> modes nearest 1, each within 1e-10 of numpy''s, certified by residuals below 1e-10' -ForEach @(@{ K = 1 }, @{ K = 6 }, @{ K = 12 }) {
        foreach ($case in $Network.cases) {
            $all = $case.eigenvalues | ForEach-Object { Complex $_ } | Sort-Object { Distance $_ ([Numerics.Complex]::One) }
            $top = Get-RnnEigen -Model $M -State ([double[]]$case.state) -Input ([double[]]$case.input) -Top $K
            $top.Target | Should -Be 'NearestOne'
            $top.Converged | Should -BeTrue
            $top.Eigenvalues.Count | Should -BeIn @($K, ($K + 1)) -Because 'a complex pair is never split'
            $c = $top.Eigenvalues.Count
            for ($i = 0; $i -lt $c; $i++) {
                # As sets: numpy orders a pair's members either way.
                ($top.Eigenvalues | ForEach-Object { Distance $_ $all[$i] } | Measure-Object -Minimum).Minimum | Should -BeLessThan 1e-10 -Because "numpy's mode $i nearest 1 ($($all[$i])) is found"
                [math]::Abs((Distance $top.Eigenvalues[$i] ([Numerics.Complex]::One)) - (Distance $all[$i] ([Numerics.Complex]::One))) | Should -BeLessThan 1e-10 -Because 'in order, nearest 1 first'
                $top.Residuals[$i] | Should -BeLessThan 1e-10
            }
            $gap = (Distance $all[$c] ([Numerics.Complex]::One)) - (Distance $all[$c - 1] ([Numerics.Complex]::One))
            if ($gap -gt 1e-6) { $top.Separated | Should -BeTrue -Because "numpy's next mode is $gap farther from 1" }
        }
    }

    It 'finds the 5 largest with -ByMagnitude, with the spectral radius' {
        foreach ($case in $Network.cases) {
            $all = $case.eigenvalues | ForEach-Object { Complex $_ } | Sort-Object { - $_.Magnitude }
            $top = Get-RnnEigen -Model $M -State ([double[]]$case.state) -Input ([double[]]$case.input) -Top 5 -ByMagnitude
            $top.Target | Should -Be 'Magnitude'
            for ($i = 0; $i -lt $top.Eigenvalues.Count; $i++) {
                $top.Eigenvalues[$i].Magnitude | Should -BeGreaterOrEqual ($all[$top.Eigenvalues.Count].Magnitude - 1e-10)
                ($all | ForEach-Object { Distance $_ $top.Eigenvalues[$i] } | Measure-Object -Minimum).Minimum | Should -BeLessThan 1e-10
            }
            [math]::Abs($top.SpectralRadius - $all[0].Magnitude) | Should -BeLessThan 1e-10
        }
    }

    It 'gives unit eigenvectors with J v = lambda v, as the residuals say' {
        $case = $Network.cases[0]
        $j = (Get-RnnJacobian -Model $M -State ([double[]]$case.state) -Input ([double[]]$case.input)).StateJacobian
        $top = Get-RnnEigen -Model $M -State ([double[]]$case.state) -Input ([double[]]$case.input) -Top 4
        for ($i = 0; $i -lt $top.Eigenvalues.Count; $i++) {
            $v = $top.Eigenvectors[$i]
            $l = $top.Eigenvalues[$i]
            $norm = 0.0; $res = 0.0
            for ($r = 0; $r -lt $v.Count; $r++) {
                $norm += $v[$r].Magnitude * $v[$r].Magnitude
                $jv = [Numerics.Complex]::Zero
                for ($c = 0; $c -lt $v.Count; $c++) { $jv += $j[$r][$c] * $v[$c] }
                $d = $jv - $l * $v[$r]
                $res += $d.Magnitude * $d.Magnitude
            }
            [math]::Abs($norm - 1) | Should -BeLessThan 1e-12
            [math]::Sqrt($res) | Should -BeLessThan 1e-10
        }
    }
}

Describe 'Get-RnnEigen -Top on spectra known in closed form' {
    It 'says mode k is not separated when the next is as near 1 (0.9 and 1.1), and separated when both are taken' {
        $d = [double[]](@(0.9, 1.1) + (1..62 | ForEach-Object { 0.5 * [math]::Sin($_) }))
        $j = AsJacobian (Symmetric $d 5)
        $one = $j | Get-RnnEigen -Top 1
        $one.Eigenvalues.Count | Should -Be 1
        [math]::Abs([math]::Abs($one.Eigenvalues[0].Real - 1) - 0.1) | Should -BeLessThan 1e-10
        $one.Separated | Should -BeFalse -Because '0.9 and 1.1 are both 0.1 from 1: which is "the nearest" is not well posed'
        $two = $j | Get-RnnEigen -Top 2
        ($two.Eigenvalues | ForEach-Object Real | Sort-Object | ForEach-Object { [math]::Round($_, 10) }) | Should -Be @(0.9, 1.1)
        $two.Separated | Should -BeTrue
    }

    It 'keeps a complex pair whole: -Top 1 gives both members when a pair is nearest 1' {
        # A rotation by 0.2 rad scaled by 0.97 in one plane (the pair 0.97 e^(+-0.2i)), the rest well inside.
        $n = 60
        $rows = [double[][]](0..($n - 1) | ForEach-Object { , [double[]]::new($n) })
        $rows[0][0] = 0.97 * [math]::Cos(0.2); $rows[0][1] = -0.97 * [math]::Sin(0.2)
        $rows[1][0] = 0.97 * [math]::Sin(0.2); $rows[1][1] = 0.97 * [math]::Cos(0.2)
        for ($i = 2; $i -lt $n; $i++) { $rows[$i][$i] = 0.3 * [math]::Cos($i); if ($i -lt $n - 1) { $rows[$i][$i + 1] = 0.1 } }
        $top = AsJacobian $rows | Get-RnnEigen -Top 1
        $top.Eigenvalues.Count | Should -Be 2
        $top.Eigenvalues[0].Imaginary | Should -BeGreaterThan 0 -Because 'the positive member first, as LAPACK orders a pair'
        [math]::Abs($top.Eigenvalues[0].Magnitude - 0.97) | Should -BeLessThan 1e-12
        [math]::Abs($top.Eigenvalues[0].Phase - 0.2) | Should -BeLessThan 1e-12
        $top.Eigenvalues[1].Imaginary | Should -Be (-$top.Eigenvalues[0].Imaginary)
    }

    It 'gives an eigenvalue at 1 exactly as 1, and repeated eigenvalues all, by the full decomposition (Method Full)' -ForEach @(@{ N = 20 }, @{ N = 60 }) {
        # Ten saturated units (J's rows e_i: eigenvalue 1, ten times), the rest an upper-triangular block with known diagonal.
        $rows = [double[][]](0..($N - 1) | ForEach-Object { , [double[]]::new($N) })
        for ($i = 0; $i -lt 10; $i++) { $rows[$i][$i] = 1.0 }
        for ($i = 10; $i -lt $N; $i++) { $rows[$i][$i] = 0.3 + 0.4 * $i / $N; if ($i -lt $N - 1) { $rows[$i][$i + 1] = 0.2 } }
        $top = AsJacobian $rows | Get-RnnEigen -Top 12
        $top.Method | Should -Be 'Full'
        $top.Converged | Should -BeTrue
        @($top.Eigenvalues | Where-Object { $_.Real -eq 1 -and $_.Imaginary -eq 0 }).Count | Should -Be 10
        [math]::Abs($top.Eigenvalues[10].Real - (0.3 + 0.4 * ($N - 1) / $N)) | Should -BeLessThan 1e-12 -Because 'the next nearest 1 is the largest diagonal entry'
        $top.Separated | Should -BeTrue
        (AsJacobian $rows | Get-RnnEigen -Top 3).Separated | Should -BeFalse -Because 'the 3rd and 4th are both at 1'
    }

    It 'keeps conjugate pairs whole when a block repeats exactly (forty copies of one rotation)' {
        $n = 80
        $rows = [double[][]](0..($n - 1) | ForEach-Object { , [double[]]::new($n) })
        for ($b = 0; $b -lt $n; $b += 2) {
            $rows[$b][$b] = 0.9 * [math]::Cos(0.1); $rows[$b][$b + 1] = -0.9 * [math]::Sin(0.1)
            $rows[$b + 1][$b] = 0.9 * [math]::Sin(0.1); $rows[$b + 1][$b + 1] = 0.9 * [math]::Cos(0.1)
        }
        $top = AsJacobian $rows | Get-RnnEigen -Top 3
        @($top.Eigenvalues | Where-Object Imaginary -gt 0).Count | Should -Be @($top.Eigenvalues | Where-Object Imaginary -lt 0).Count
        $top.Residuals | ForEach-Object { $_ | Should -BeLessThan 1e-12 }
        $top.Separated | Should -BeFalse
    }

    It 'uses the LU of libtorch from 128 units on, with the same answers as in closed form' {
        # Upper triangular: its eigenvalues are its diagonal; 0.995 and 0.99 nearest 1, the rest at most 0.7.
        $n = 140
        $rows = [double[][]](0..($n - 1) | ForEach-Object { , [double[]]::new($n) })
        for ($i = 0; $i -lt $n; $i++) { $rows[$i][$i] = 0.7 * [math]::Cos(0.37 * $i); if ($i -lt $n - 1) { $rows[$i][$i + 1] = 0.05 } }
        $rows[5][5] = 0.995; $rows[77][77] = 0.99
        $top = AsJacobian $rows | Get-RnnEigen -Top 2
        $top.Method | Should -Be 'KrylovSchur'
        $top.Converged | Should -BeTrue
        [math]::Abs($top.Eigenvalues[0].Real - 0.995) | Should -BeLessThan 1e-10
        [math]::Abs($top.Eigenvalues[1].Real - 0.99) | Should -BeLessThan 1e-10
        $top.Separated | Should -BeTrue
    }

    It 'converges on the largest of a dense circle of modes by Krylov-Schur, within its budget' {
        # 400 rotations r_b e^(+-i phi_b), r_b = 0.9 - 0.003 b: the largest pairs are 0.3 % apart, as in a random network's
        # circular bulk. A copy of the search in numpy needed 32 to 91 restarts over 15 start vectors (a fixed limit of 60
        # restarts sent a third of them to the full decomposition); the budget of operations allows about 190 here.
        $n = 800
        $rows = [double[][]](0..($n - 1) | ForEach-Object { , [double[]]::new($n) })
        $expected = foreach ($b in 0..($n / 2 - 1)) {
            $r = 0.9 - 0.003 * $b; $phi = 0.3 + 2.5 * (($b * 0.6180339887) % 1)
            $rows[2 * $b][2 * $b] = $r * [math]::Cos($phi); $rows[2 * $b][2 * $b + 1] = -$r * [math]::Sin($phi)
            $rows[2 * $b + 1][2 * $b] = $r * [math]::Sin($phi); $rows[2 * $b + 1][2 * $b + 1] = $r * [math]::Cos($phi)
            [Numerics.Complex]::FromPolarCoordinates($r, $phi); [Numerics.Complex]::FromPolarCoordinates($r, -$phi)
        }
        $top = AsJacobian $rows | Get-RnnEigen -Top 10 -ByMagnitude
        $top.Method | Should -Be 'KrylovSchur'
        $top.Converged | Should -BeTrue
        $top.Eigenvalues.Count | Should -Be 10
        for ($i = 0; $i -lt 10; $i++) {
            ($expected | ForEach-Object { Distance $_ $top.Eigenvalues[$i] } | Measure-Object -Minimum).Minimum | Should -BeLessThan 1e-10
            $top.Magnitude[$i] | Should -BeGreaterThan (0.9 - 0.003 * 5 + 1e-3) -Because 'the five largest pairs, no other'
        }
        $top.Separated | Should -BeTrue
    }

    It 'keeps a pair together ahead of a real mode a little farther from 1 (<N> units, <Method>)' -ForEach @(
        @{ N = 20; Method = 'Full'; Scale = 1e-12 }          # within 1e-9 of each other: the full decomposition's order
        @{ N = 160; Method = 'KrylovSchur'; Scale = 1e-6 }
    ) {
        # The pair 1 - s +- 3.5 s i (3.6 s from 1), the real mode 1 - 11 s, the rest at most 0.5.
        $rows = [double[][]](0..($N - 1) | ForEach-Object { , [double[]]::new($N) })
        $rows[0][0] = 1 - $Scale; $rows[0][1] = -3.5 * $Scale; $rows[1][0] = 3.5 * $Scale; $rows[1][1] = 1 - $Scale
        $rows[2][2] = 1 - 11 * $Scale
        for ($i = 3; $i -lt $N; $i++) { $rows[$i][$i] = 0.5 * [math]::Cos($i) }
        $top = AsJacobian $rows | Get-RnnEigen -Top 3
        $top.Method | Should -Be $Method
        $top.Eigenvalues[0].Imaginary | Should -BeGreaterThan 0
        $top.Eigenvalues[1] | Should -Be ([Numerics.Complex]::Conjugate($top.Eigenvalues[0])) -Because 'the pair''s members are next to each other'
        $top.Eigenvalues[2].Imaginary | Should -Be 0
        [math]::Abs($top.Eigenvalues[2].Real - (1 - 11 * $Scale)) | Should -BeLessThan 1e-12
    }

    It 'says the k-th largest is not apart from the next where both are zero to rounding (<N> units)' -ForEach @(@{ N = 80 }, @{ N = 30 }) {
        # Eight nonzero eigenvalues and N - 8 zeros, as dead ReLU units leave: the 9th largest ties with the 10th.
        $d = [double[]](@(0.9, -0.8, 0.7, 0.6, -0.5, 0.4, 0.3, 0.2) + @(0) * ($N - 8))
        $j = AsJacobian (Symmetric $d 11)
        $nine = $j | Get-RnnEigen -Top 9 -ByMagnitude
        $nine.Magnitude[8] | Should -BeLessThan 1e-13
        $nine.Separated | Should -BeFalse -Because 'the 9th and 10th are both zero to rounding'
        $eight = $j | Get-RnnEigen -Top 8 -ByMagnitude
        $eight.Separated | Should -BeTrue -Because '0.2 is apart from 0'
        [math]::Abs($eight.Magnitude[7] - 0.2) | Should -BeLessThan 1e-12
    }

    It 'gives every copy of a value that saturated units share (<Value>, <Target>)' -ForEach @(
        @{ Value = 1.0; Target = 'Magnitude'; Extra = @{ ByMagnitude = $true } }
        @{ Value = 0.8; Target = 'NearestOne'; Extra = @{} }
    ) {
        # Ten decoupled units (row i is Value e_i, as a saturated GRU unit keeps its value, or a leaky one decays by 1 - alpha),
        # read by the others; the rest upper bidiagonal with diagonal Value - 0.01, - 0.02, - 0.03, - 0.04, then within 0.1.
        # The decoupled rows are checked once a search has converged, and the full decomposition gives every copy.
        $n = 160
        $rows = [double[][]](0..($n - 1) | ForEach-Object { , [double[]]::new($n) })
        for ($i = 0; $i -lt 10; $i++) { $rows[$i][$i] = $Value }
        for ($i = 10; $i -lt $n; $i++) {
            $rows[$i][$i] = if ($i -lt 14) { $Value - 0.01 * ($i - 9) } else { 0.1 * [math]::Cos($i) }
            if ($i -lt $n - 1) { $rows[$i][$i + 1] = 0.01 }
            $rows[$i][$i % 10] = 0.05
        }
        $extra = $Extra
        $out = @(AsJacobian $rows | Get-RnnEigen -Top 4 @extra -Verbose 4>&1)
        "$($out | Where-Object { $_ -is [Management.Automation.VerboseRecord] })" | Should -Match '10 units are decoupled \(saturated\) with the eigenvalue'
        $top = $out | Where-Object { $_ -is [RnnLinearization.RnnTopEigen] }
        $top.Target | Should -Be $Target
        $top.Method | Should -Be 'Full'
        $top.Eigenvalues | ForEach-Object { $_.Real | Should -Be $Value; $_.Imaginary | Should -Be 0 }
        $top.Separated | Should -BeFalse -Because 'the 4th and 5th are both copies'
        $twelve = AsJacobian $rows | Get-RnnEigen -Top 11 @extra
        @($twelve.Eigenvalues | Where-Object { $_.Real -eq $Value }).Count | Should -Be 10
        $twelve.Separated | Should -BeTrue
    }

    It 'says why it took the full decomposition, warns when k exceeds the state size, and gives -PerMode rows their residuals' {
        $d = [double[]](@(0.99, 0.95) + (1..48 | ForEach-Object { 0.4 * [math]::Cos($_) }))   # 50 units: below 64
        $j = AsJacobian (Symmetric $d 9)
        $verbose = @($j | Get-RnnEigen -Top 2 -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] })
        "$verbose" | Should -Match 'full decomposition was taken: below 64 state values'
        $all = $j | Get-RnnEigen -Top 60 -WarningVariable warned -WarningAction SilentlyContinue
        $all.Eigenvalues.Count | Should -Be 50
        "$warned" | Should -Match '-Top 60 asks for more modes than the 50'
        $modes = @($j | Get-RnnEigen -Top 2 -PerMode)
        $modes.Count | Should -Be 2
        $whole = $j | Get-RnnEigen -Top 2
        for ($k = 0; $k -lt 2; $k++) {
            $modes[$k] | Should -BeOfType ([RnnLinearization.RnnTopEigenMode])
            $modes[$k].Residual | Should -Be $whole.Residuals[$k]
            $modes[$k].Residual | Should -BeLessThan 1e-12
        }
        ($modes | Format-Table | Out-String) | Should -Match 'Residual'
        $modes[0].Real | Should -BeGreaterThan $modes[1].Real -Because 'Mode 0 is nearest 1 (0.99, then 0.95)'
        ($j | Get-RnnEigen -Top 2 | Format-List | Out-String) | Should -Match 'Eigenvectors\s*:\s*2 vectors of 50'
    }

    It 'gives the time constants of the top modes with -PerMode' {
        $d = [double[]](@(0.99, 0.95) + (1..48 | ForEach-Object { 0.4 * [math]::Cos($_) }))
        $modes = AsJacobian (Symmetric $d 9) | Get-RnnEigen -Top 2 -PerMode
        $modes.Count | Should -Be 2
        [math]::Abs($modes[0].TimeConstant - (-1 / [math]::Log(0.99))) | Should -BeLessThan 1e-6
        [math]::Abs($modes[1].TimeConstant - (-1 / [math]::Log(0.95))) | Should -BeLessThan 1e-6
    }

    It 'refuses <Case> (<Id>)' -ForEach @(
        @{ Case = '-ByMagnitude without -Top'; Id = 'ConflictingParameters'; Extra = @{ ByMagnitude = $true } }
        @{ Case = '-Top with -LeftEigenvectors'; Id = 'ConflictingParameters'; Extra = @{ Top = 2; LeftEigenvectors = $true } }
        @{ Case = '-Top with -Sort'; Id = 'ConflictingParameters'; Extra = @{ Top = 2; Sort = 'None' } }
    ) {
        $m = New-RnnModel -InputSize 1 -HiddenSize 4 -Seed 1
        { Get-RnnEigen -Model $m -State ([double[]](0, 0, 0, 0)) @Extra -ErrorAction Stop } | Should -Throw -ErrorId "$Id,RnnLinearization.GetRnnEigenCommand"
    }
}

Describe 'Eigenvectors at a saturated state (an LSTM under input 1000, tests/fixtures/generate_saturated.py)' {
    BeforeAll {
        $dir = Join-Path $script:Fixtures 'saturated'
        $script:Sat = Get-Content (Join-Path $dir 'expected.json') -Raw | ConvertFrom-Json
        # PyTorch's autograd Jacobian: the residuals are measured against it, not against the module's own.
        $script:J = [double[][]]@(Import-RnnState (Join-Path $dir 'jacobian.npy') | ForEach-Object { , $_.State })
        $script:Lstm = Import-RnnModel (Join-Path $dir 'lstm_i1_h62.pt') -WarningAction SilentlyContinue
        $script:Norm = [math]::Sqrt(($J | ForEach-Object { $_ | ForEach-Object { $_ * $_ } } | Measure-Object -Sum).Sum)
        # |J v - lambda v| / |v| for each pair, in plain complex arithmetic (compiled: 124 x 124 x 124 operations).
        if (-not ('SaturatedResidual' -as [type])) {
            Add-Type -TypeDefinition @'
using System.Numerics;
public static class SaturatedResidual {
    public static double Of(double[][] j, Complex lambda, Complex[] v) {
        double sum = 0, norm = 0;
        for (int r = 0; r < j.Length; r++) {
            Complex jv = 0;
            for (int c = 0; c < v.Length; c++) jv += j[r][c] * v[c];
            sum += (jv - lambda * v[r]).Magnitude * (jv - lambda * v[r]).Magnitude;
            norm += v[r].Magnitude * v[r].Magnitude;
        }
        return System.Math.Sqrt(sum / norm);
    }
}
'@
        }
    }

    It 'gives numpy''s eigenvalues, and eigenvectors with |J v - lambda v| below 1e-10 |J| (numpy''s own eig: <Worst>)' -TestCases @(@{ Worst = '1e-3' }) {
        $Sat.numpy_eig_worst_residual | Should -BeGreaterThan 1e-6 -Because 'the fixture is the case LAPACK''s balancing gets wrong'
        $e = Get-RnnEigen -Model $Lstm -State ([double[]]$Sat.state) -Input ([double[]]$Sat.input)
        $expected = $Sat.eigenvalues | ForEach-Object { [Numerics.Complex]::new($_[0], $_[1]) }
        foreach ($lambda in $e.Eigenvalues) {
            ($expected | ForEach-Object { [Numerics.Complex]::Abs($_ - $lambda) } | Measure-Object -Minimum).Minimum | Should -BeLessThan 1e-10
        }
        for ($k = 0; $k -lt $e.Eigenvalues.Count; $k++) {
            [SaturatedResidual]::Of($J, $e.Eigenvalues[$k], $e.Eigenvectors[$k]) | Should -BeLessThan (1e-10 * $Norm) -Because "eigenvector $k ($($e.Eigenvalues[$k])) is one"
        }
    }

    It 'gives -Top 3 converged, each pair certified by its residual against J' {
        $top = Get-RnnEigen -Model $Lstm -State ([double[]]$Sat.state) -Input ([double[]]$Sat.input) -Top 3 -WarningAction SilentlyContinue
        $top.Converged | Should -BeTrue
        for ($k = 0; $k -lt $top.Eigenvalues.Count; $k++) {
            $r = [SaturatedResidual]::Of($J, $top.Eigenvalues[$k], $top.Eigenvectors[$k])
            $r | Should -BeLessThan (1e-10 * $Norm)
            [math]::Abs($r - $top.Residuals[$k]) | Should -BeLessThan (1e-12 * $Norm) -Because 'Residuals says what the vector''s residual is'
        }
        $top.Separated | Should -BeFalse -Because "numpy has $(@($Sat.eigenvalues | Where-Object { [math]::Abs($_[0] - 1) -lt 1e-9 -and [math]::Abs($_[1]) -lt 1e-9 }).Count) eigenvalues within 1e-9 of 1: the 3 nearest are not apart from the 4th"
    }
}
