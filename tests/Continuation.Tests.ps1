# Fixed points followed along inputs (Trace-RnnFixedPoint) against bifurcations known without our code: the folds of
# h' = tanh(2h + u) in closed form, a Neimark-Sacker point of a 2-unit network located in numpy
# (tests/fixtures/generate_continuation.py), and the 3-bit flip-flop's branches against a search at each input.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Dir = Join-Path $script:Fixtures 'continuation'
    $script:Expected = Get-Content (Join-Path $Dir 'expected.json') -Raw | ConvertFrom-Json -AsHashtable
    $script:Threads = (Get-RnnConfiguration).ThreadCount
    Set-RnnConfiguration -ThreadCount 1
    $script:Fold = Import-RnnModel (Join-Path $Dir 'fold1.pt')
}

AfterAll { Set-RnnConfiguration -ThreadCount $script:Threads }

Describe 'Trace-RnnFixedPoint on h'' = tanh(2h + u)' {
    BeforeAll {
        $start = Find-RnnFixedPoint -Model $Fold -Input -1 -InitialState ([double[][]]@(@(-1.0), @(0.0), @(1.0)))
        $script:Branch = $start | Trace-RnnFixedPoint -Model $Fold -Component 0 -Range -1, 1
        $script:Folds = @($Branch | Where-Object Event -eq Fold)
    }

    It 'finds the one fixed point at u = -1 and follows it through both folds to u = 1' {
        @($Branch | ForEach-Object Branch | Sort-Object -Unique) | Should -Be @(0)
        $Branch[0].Parameter | Should -Be -1
        $Branch[-1].Parameter | Should -Be 1
        $Branch[-1].State[0] | Should -BeGreaterThan 0.9 -Because 'the branch ends on the upper stable branch'
        $Folds.Count | Should -Be 2
        @($Branch | Where-Object { $_.Event -ne 'None' -and $_.Event -ne 'Fold' }).Count | Should -Be 0
    }

    It 'locates the folds at u = -+(2 sqrt(1/2) - atanh(sqrt(1/2))), h = +-sqrt(1/2), to 1e-8 in u' {
        foreach ($want in $Expected.fold1.folds) {
            $fold = $Folds | Sort-Object { [math]::Abs($_.Parameter - $want.u) } | Select-Object -First 1
            [math]::Abs($fold.Parameter - $want.u) | Should -BeLessThan 1e-8
            [math]::Abs($fold.Input[0] - $want.u) | Should -BeLessThan 1e-8
            [math]::Abs($fold.State[0] - $want.h) | Should -BeLessThan 1e-4
            [math]::Abs($fold.NearestEigenvalues[0].Real - 1) | Should -BeLessThan 1e-4 -Because 'at a fold an eigenvalue is 1'
        }
    }

    It 'labels the outer branches stable and the middle one unstable (J = 2 (1 - h^2))' {
        foreach ($p in $Branch | Where-Object Event -eq None) {
            $slope = 2 * (1 - $p.State[0] * $p.State[0])
            if ([math]::Abs($slope - 1) -gt 1e-6) { $p.IsStable | Should -Be ($slope -lt 1) }
            $p.Residual | Should -BeLessOrEqual 1e-10
            [math]::Abs([math]::Tanh(2 * $p.State[0] + $p.Input[0]) - $p.State[0]) | Should -BeLessThan 1e-10
        }
    }

    It 'starts from a tiny -StepSize and still follows the branch to its end' {
        $start = Find-RnnFixedPoint -Model $Fold -Input -1 -InitialState ([double[][]]@(, @(-1.0)))
        $b = $start | Trace-RnnFixedPoint -Model $Fold -Component 0 -Range -1, 1 -StepSize 1e-10
        @($b | Where-Object Event -eq Fold).Count | Should -Be 2
        $b[-1].Parameter | Should -Be 1
    }

    It 'gives the same folds along an -InputPath with a corner, in that path''s parameter' {
        $start = Find-RnnFixedPoint -Model $Fold -Input -1 -InitialState ([double[][]]@(, @(-1.0)))
        # The corner lies beyond both folds: a branch that turns back past a corner ends there (TurnedBack).
        $b = $start | Trace-RnnFixedPoint -Model $Fold -InputPath @(@(-1.0), @(0.75), @(1.0))
        $f = @($b | Where-Object Event -eq Fold)
        $f.Count | Should -Be 2
        foreach ($want in $Expected.fold1.folds) {
            @($f | Where-Object { [math]::Abs($_.Input[0] - $want.u) -lt 1e-8 }).Count | Should -Be 1
        }
        $b[-1].Parameter | Should -Be 2
    }
}

Describe 'Trace-RnnFixedPoint at a Neimark-Sacker point' {
    It 'locates where the complex pair crosses the unit circle to 1e-6 in u (numpy: bisection on |lambda|)' {
        $m = Import-RnnModel (Join-Path $Dir 'ns2.pt')
        $start = Find-RnnFixedPoint -Model $m -Input 0 -InitialState ([double[][]]@(, [double[]](0.1, 0.1)))
        $b = $start | Trace-RnnFixedPoint -Model $m -From 0 -To 1.5
        $ns = @($b | Where-Object Event -eq NeimarkSacker)
        $ns.Count | Should -Be 1
        [math]::Abs($ns[0].Input[0] - $Expected.ns2.u) | Should -BeLessThan 1e-6
        [math]::Abs($ns[0].NearestEigenvalues[0].Magnitude - 1) | Should -BeLessThan 1e-6
        [math]::Abs($ns[0].NearestEigenvalues[0].Imaginary) | Should -BeGreaterThan 0.1
        for ($i = 0; $i -lt 2; $i++) { [math]::Abs($ns[0].State[$i] - $Expected.ns2.state[$i]) | Should -BeLessThan 1e-5 }
        ($b | Where-Object { $_.Event -eq 'None' -and $_.Input[0] -lt $Expected.ns2.u - 1e-3 } | ForEach-Object IsStable | Sort-Object -Unique) | Should -Be $false
        ($b | Where-Object { $_.Event -eq 'None' -and $_.Input[0] -gt $Expected.ns2.u + 1e-3 } | ForEach-Object IsStable | Sort-Object -Unique) | Should -Be $true
    }
}

Describe 'Trace-RnnFixedPoint on the 3-bit flip-flop' {
    BeforeAll {
        $script:Model = Import-RnnModel (Join-Path (Split-Path $PSScriptRoot) 'examples/flipflop_rnn.pt')
        $pulses = foreach ($t in 1..200) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * ($t % 50 -eq 0) }; , $x }
        $script:Traj = Get-RnnTrajectory -Model $Model -InputSequence $pulses
        $start = $Traj | Find-RnnFixedPoint -Model $Model -Input -1, 0, 0 -Count 512 -Noise 0.5 -Seed 1
        $script:Points = @($start | Trace-RnnFixedPoint -Model $Model -Component 0 -Range -1, 1 | Where-Object Event -eq None)
    }

    It 'passes through every fixed point a search finds at inputs along the sweep, and only through them' {
        # Where the branch crosses u (linear interpolation between its points) against Find-RnnFixedPoint at u.
        $checked = 0
        foreach ($u in -0.9, -0.5, -0.2, -0.1, -0.05, 0.0, 0.01, 0.02, 0.05, 0.1, 0.3, 0.7) {
            $found = @($Traj | Find-RnnFixedPoint -Model $Model -Input $u, 0, 0 -Count 512 -Noise 0.5 -Seed 1 -WarningAction SilentlyContinue)
            $crossings = [System.Collections.Generic.List[double[]]]::new()
            for ($i = 0; $i -lt $Points.Count - 1; $i++) {
                $a, $b = $Points[$i], $Points[$i + 1]
                if (($a.Parameter - $u) * ($b.Parameter - $u) -le 0 -and $a.Parameter -ne $b.Parameter) {
                    $f = ($u - $a.Parameter) / ($b.Parameter - $a.Parameter)
                    $crossings.Add([double[]](0..($a.State.Count - 1) | ForEach-Object { $a.State[$_] + $f * ($b.State[$_] - $a.State[$_]) }))
                }
            }
            $crossings.Count | Should -Be $found.Count -Because "at u = $u the branch crosses as often as there are fixed points"
            foreach ($p in $found) {
                $nearest = ($crossings | ForEach-Object { $x = $_; ($x | ForEach-Object -Begin { $k = 0; $d = 0.0 } -Process { $d = [math]::Max($d, [math]::Abs($_ - $p.State[$k])); $k++ } -End { $d }) } | Measure-Object -Minimum).Minimum
                $nearest | Should -BeLessThan 1e-2 -Because 'the branch is drawn in steps of up to 0.1 (arclength)' 
                $checked++
            }
        }
        $checked | Should -BeGreaterThan 50
    }

    It 'draws the bifurcation diagram' {
        $png = Join-Path $TestDrive 'bifurcation.png'
        $file = $Points | Export-RnnPlot $png -PassThru
        $file.Length | Should -BeGreaterThan 10000
    }
}

Describe 'Trace-RnnFixedPoint errors' {
    It 'warns when a start is not a fixed point at the path''s first input, and names the parameter on the plot''s axis' {
        $atZero = Find-RnnFixedPoint -Model $Fold -Input 0 -InitialState ([double[][]]@(, @(1.0)))
        $b = $atZero | Trace-RnnFixedPoint -Model $Fold -Component 0 -Range 0.8, 1 -WarningVariable warned -WarningAction SilentlyContinue
        "$warned" | Should -BeLike '*Start 0 was not a fixed point*'
        $b[0].ParameterName | Should -Be 'input 0'
        $svg = Join-Path $TestDrive 'branch.svg'
        $b | Export-RnnPlot $svg
        Get-Content $svg -Raw | Should -BeLike '*input 0*'
        $quiet = Find-RnnFixedPoint -Model $Fold -Input 0.8 -InitialState ([double[][]]@(, @(1.0))) |
            Trace-RnnFixedPoint -Model $Fold -Component 0 -Range 0.8, 1 -WarningVariable none -WarningAction SilentlyContinue
        $none | Should -BeNullOrEmpty
    }

    It 'refuses a path that goes nowhere (InvalidInputPath)' {
        { Trace-RnnFixedPoint -Model $Fold -InitialState ([double[][]]@(, @(0.0))) -Component 0 -Range 0.5, 0.5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidInputPath*'
        { Trace-RnnFixedPoint -Model $Fold -InitialState ([double[][]]@(, @(0.0))) -From 0.5 -To 0.5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidInputPath*' -ExpectedMessage '*-From and -To*'
    }

    It 'refuses a component the model does not have (InvalidComponent)' {
        { Trace-RnnFixedPoint -Model $Fold -InitialState ([double[][]]@(, @(0.0))) -Component 1 -Range 0, 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidComponent,RnnLinearization.TraceRnnFixedPointCommand'
    }

    It 'asks for starts when none are given (NoInitialStates)' {
        { Trace-RnnFixedPoint -Model $Fold -From 0 -To 1 -ErrorAction Stop } | Should -Throw -ErrorId 'NoInitialStates,RnnLinearization.TraceRnnFixedPointCommand'
    }

    It 'refuses inputs of the wrong length (InputLengthMismatch)' {
        { Trace-RnnFixedPoint -Model $Fold -InitialState ([double[][]]@(, @(0.0))) -From 0, 0 -To 1, 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InputLengthMismatch*' -ExpectedMessage '-From has 2 values*'
        { Trace-RnnFixedPoint -Model $Fold -InitialState ([double[][]]@(, @(0.0))) -InputPath ([double[][]]@(@(0.0), @(1.0, 2.0))) -ErrorAction Stop } |
            Should -Throw -ErrorId 'InputLengthMismatch*' -ExpectedMessage 'Row 1 of -InputPath has 2 values*'
    }
}
