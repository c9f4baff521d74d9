BeforeDiscovery {
    $script:Networks = Get-ChildItem (Join-Path $PSScriptRoot 'fixtures/fixedpoints') -Filter *.json |
        Where-Object BaseName -NotLike 'linear*' | ForEach-Object { @{ Name = $_.BaseName } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:FixedPointDir = Join-Path $script:Fixtures 'fixedpoints'

    function Get-FixedPointFixture([string] $Name) {
        $f = Get-Content (Join-Path $script:FixedPointDir "$Name.json") -Raw | ConvertFrom-Json -AsHashtable
        $options = $f.import
        $f.Model = Import-RnnModel (Join-Path $script:FixedPointDir $f.model) @options
        $f
    }

    function Get-Distance([double[]] $A, [double[]] $B) {
        $sum = 0.0
        for ($i = 0; $i -lt $A.Length; $i++) { $sum += ($A[$i] - $B[$i]) * ($A[$i] - $B[$i]) }
        [math]::Sqrt($sum)
    }

    # The point of $Found nearest to $State.
    function Get-Nearest($Found, [double[]] $State) {
        $Found | Sort-Object { Get-Distance $_.State $State } | Select-Object -First 1
    }

    function Assert-SameSpectrum($Expected, [System.Numerics.Complex[]] $Actual, [double] $Tolerance) {
        $Actual.Count | Should -Be $Expected.eig_real.Count
        for ($k = 0; $k -lt $Expected.eig_real.Count; $k++) {
            $x = [System.Numerics.Complex]::new($Expected.eig_real[$k], $Expected.eig_imag[$k])
            ($Actual | ForEach-Object { [System.Numerics.Complex]::Abs($_ - $x) } | Measure-Object -Minimum).Minimum | Should -BeLessOrEqual $Tolerance
        }
    }
}

Describe 'Find-RnnFixedPoint against the toolkits'' Adam procedure in PyTorch: <Name>' -ForEach $Networks {
    BeforeAll {
        $f = Get-FixedPointFixture $Name
        $fps = Find-RnnFixedPoint -Model $f.Model -Input ([double[]]$f.input) -InitialState ([double[][]]$f.starts)
    }

    It 'finds every point the reference finds, within 1e-6, at q below 1e-20' {
        $f.points.Count | Should -BeGreaterThan 0
        foreach ($p in $f.points) {
            $near = Get-Nearest $fps $p.state
            Get-Distance $near.State $p.state | Should -BeLessOrEqual 1e-6
            $near.Q | Should -BeLessThan 1e-20
        }
    }

    It 'gives each point the kind, unstable count and eigenvalues of torch.linalg.eigvals there' {
        foreach ($p in $f.points) {
            $near = Get-Nearest $fps $p.state
            [string]$near.Kind | Should -Be $p.kind
            $near.UnstableCount | Should -Be $p.unstable_count
            $near.IsStable | Should -Be ($p.unstable_count -eq 0)
            Assert-SameSpectrum $p $near.Eigenvalues 1e-6
            $near.SpectralRadius | Should -BeGreaterThan 0
            ($near.Eigenvalues | ForEach-Object Magnitude) | Should -Be ($near.Eigenvalues | ForEach-Object Magnitude | Sort-Object -Descending)
        }
    }

    It 'gives the readout at each point and along a trajectory, as the PyTorch module computes it' {
        if (-not $f.points[0].ContainsKey('output')) {
            $f.Model.OutputSize | Should -Be 0
            $fps[0].Output | Should -BeNullOrEmpty
            return
        }
        $f.Model.OutputSize | Should -Be $f.points[0].output.Count
        # Two locations of each point, Adam's (q to 1e-12, so |F(h) - h| to about 1e-6) and ours: their readouts agree
        # to what the locations do, not to rounding.
        foreach ($p in $f.points) { Assert-Close $p.output (Get-Nearest $fps $p.state).Output -Rel 1e-6 -Abs 1e-9 }
        $traj = Get-RnnTrajectory -Model $f.Model -InputSequence ([double[][]]$f.trajectory.inputs)
        for ($t = 0; $t -lt $traj.Count; $t++) {
            Assert-Close $f.trajectory.states[$t] $traj[$t].NextState -Rel 1e-10 -Abs 1e-12
            Assert-Close $f.trajectory.outputs[$t] $traj[$t].Output -Rel 1e-10 -Abs 1e-12
        }
    }

    It 'emits points whose linearisation the other cmdlets agree with, piped by property name' {
        $j = $fps | Get-RnnJacobian -Model $f.Model
        $e = $fps | Get-RnnEigen -Model $f.Model -NoEigenvectors
        for ($i = 0; $i -lt $fps.Count; $i++) {
            Get-Distance $j[$i].NextState $fps[$i].State | Should -BeLessOrEqual 1e-12
            Assert-Close $f.input $j[$i].Input -Rel 0 -Abs 0
            Assert-Close ($e[$i].Eigenvalues | ForEach-Object Real) ($fps[$i].Eigenvalues | ForEach-Object Real) -Rel 1e-9 -Abs 1e-12
        }
        $steps = $fps[0] | Invoke-RnnLinearization -Model $f.Model -DeltaState (, [double[]](@(1e-6) * $f.Model.StateSize)) -Exact
        $steps.ErrorNorm | Should -BeLessThan 1e-10
    }
}

Describe 'Find-RnnFixedPoint -Method Adam reproduces the PyTorch procedure: <Name>' -ForEach @(
    @{ Name = 'lstm_i2_h4_readout' }, @{ Name = 'rnn_i2_h4_2layers' }, @{ Name = 'script_grucell_i2_h4' }) {
    It 'runs as many iterations and ends at the same points, within 1e-6' {
        $f = Get-FixedPointFixture $Name
        $a = $f.adam
        $f.adam.iterations | Should -BeLessThan 1000 -Because 'the tests run the networks whose reference converged quickly'
        $all = Find-RnnFixedPoint -Model $f.Model -Input ([double[]]$f.input) -InitialState ([double[][]]$f.starts) -Method Adam `
            -tol_q $a.tol_q -tol_dq $a.tol_dq -max_iters $a.max_iters -lr_init $a.lr_init -LearningRateFactor $a.lr_factor -LearningRatePatience $a.lr_patience -All
        $all.Count | Should -Be $f.starts.Count
        $all[0].Iterations | Should -BeGreaterOrEqual ($a.iterations - 5)
        $all[0].Iterations | Should -BeLessOrEqual ($a.iterations + 5)
        foreach ($p in $f.points) { Get-Distance (Get-Nearest $all $p.state).State $p.state | Should -BeLessOrEqual 1e-6 }
        $unique = Find-RnnFixedPoint -Model $f.Model -Input ([double[]]$f.input) -InitialState ([double[][]]$f.starts) -Method Adam `
            -TolQ $a.tol_q -TolDq $a.tol_dq -MaxIterations $a.max_iters
        $unique.Count | Should -Be $f.points.Count
    }
}

Describe 'Fixed points in closed form' {
    It 'finds the one fixed point of a linear rate network, (I - W)^-1 (W_in u + b), to 1e-10' {
        $f = Get-Content (Join-Path $script:FixedPointDir 'linear_leaky_i3_h8.json') -Raw | ConvertFrom-Json
        $m = Import-RnnModel (Join-Path $script:FixedPointDir $f.model) -Architecture LeakyRnn -Alpha $f.alpha -Nonlinearity Linear
        $starts = foreach ($k in 1..5) { , [double[]](1..8 | ForEach-Object { $k * [math]::Sin($_ * $k) }) }
        $fp = Find-RnnFixedPoint -Model $m -Input $f.input -InitialState $starts
        @($fp).Count | Should -Be 1
        $fp.StartCount | Should -Be 5
        Get-Distance $fp.State $f.fixed_point | Should -BeLessOrEqual 1e-10
        $fp.Q | Should -BeLessThan 1e-24
        Assert-Close ($f.eigenvalues_real | Sort-Object) ($fp.Eigenvalues.Real | Sort-Object) -Rel 1e-9 -Abs 1e-12
    }

    It 'settles at the slow point of a one-unit tanh RNN with no fixed point nearby, where tanh''(2h + b) = 1/2' {
        # h' = tanh(2h + b): q has a local minimum above zero at 2h + b = -acosh(sqrt 2) for b = 1.2 (a ghost).
        $m = New-RnnModel -InputSize 1 -HiddenSize 1 -NoBias -Seed 1
        $path = Join-Path $TestDrive 'ghost.safetensors'
        $m.Parameters['weight_hh_l0'].Data[0] = 2.0
        $m.Parameters['weight_ih_l0'].Data[0] = 1.2   # the input 1 carries the bias b = 1.2
        $m | Export-RnnModel -Path $path
        $ghost = Import-RnnModel $path
        $h = (-[math]::Acosh([math]::Sqrt(2)) - 1.2) / 2
        $expectedQ = 0.5 * [math]::Pow([math]::Tanh(2 * $h + 1.2) - $h, 2)
        $slow = Find-RnnFixedPoint -Model $ghost -Input 1 -InitialState ([double[][]](-1.5, -0.8)) -MaxQ 1
        $s = $slow | Where-Object Kind -eq 'Slow'
        @($s).Count | Should -Be 1
        [math]::Abs($s.State[0] - $h) | Should -BeLessOrEqual 1e-6
        [math]::Abs($s.Q - $expectedQ) | Should -BeLessOrEqual (1e-9 * $expectedQ)
        Find-RnnFixedPoint -Model $ghost -Input 1 -InitialState ([double[][]](, -1.5)) | Should -BeNullOrEmpty -Because 'slow points are dropped unless -MaxQ keeps them'
    }
}

Describe 'Memories no start reached, on a cube of them (tests/fixtures/generate_cube.py)' {
    BeforeAll {
        $script:Cube = Import-RnnModel (Join-Path $script:Fixtures 'cube/cube3.pt')
        $script:CubeExpected = Get-Content (Join-Path $script:Fixtures 'cube/expected.json') -Raw | ConvertFrom-Json
        # Starts near six of the eight corners: none near (x*, x*, x*) or (-x*, -x*, -x*).
        $script:CubeStarts = [double[][]]@(@(0.9, 0.9, -0.9), @(0.9, -0.9, 0.9), @(-0.9, 0.9, 0.9), @(-0.9, -0.9, 0.9), @(-0.9, 0.9, -0.9), @(0.9, -0.9, -0.9))
    }

    It 'finds the two corners A + B - C completes, and then all 27 fixed points, each where the closed form puts it' {
        $points = @(Find-RnnFixedPoint -Model $Cube -InitialState $CubeStarts)
        $points.Count | Should -Be $CubeExpected.fixed_points
        $stable = @($points | Where-Object Kind -eq Stable)
        $stable.Count | Should -Be 8
        foreach ($corner in $CubeExpected.corners) {
            ($stable | ForEach-Object { $p = $_; (0..2 | ForEach-Object { [math]::Abs($p.State[$_] - $corner[$_]) } | Measure-Object -Maximum).Maximum } | Measure-Object -Minimum).Minimum |
                Should -BeLessThan 1e-12 -Because "corner ($($corner -join ', ')) is a memory"
        }
        # Every point's coordinates are -x*, 0 or x*; its index is the number of zeros.
        foreach ($p in $points) {
            $zeros = @($p.State | Where-Object { [math]::Abs($_) -lt 1e-12 }).Count
            @($p.State | Where-Object { [math]::Abs([math]::Abs($_) - $CubeExpected.x_star) -lt 1e-12 }).Count | Should -Be (3 - $zeros)
            $p.UnstableCount | Should -Be $zeros
        }
        $without = @(Find-RnnFixedPoint -Model $Cube -InitialState $CubeStarts -NoProbes)
        @($without | Where-Object Kind -eq Stable).Count | Should -Be 6 -Because 'the starts reach six corners alone'
    }
}

Describe 'An honest account of every start' {
    BeforeAll {
        # h' = relu(2h + 1): q = 1/2 (relu(2h + 1) - h)^2 falls towards the kink at h = -1/2 from both sides, where
        # F(h) - h = 1/2 and |grad q| is 1/2 on either side: no fixed point and no stationary point of q anywhere.
        $m = New-RnnModel -InputSize 1 -HiddenSize 1 -Nonlinearity Relu -NoBias -Seed 1
        $path = Join-Path $TestDrive 'kink.safetensors'
        $m.Parameters['weight_hh_l0'].Data[0] = 2.0
        $m.Parameters['weight_ih_l0'].Data[0] = 1.0
        $m | Export-RnnModel -Path $path
        $script:kink = Import-RnnModel $path
        $script:kinkStarts = [double[][]]@(, [double[]]@(1.0)) + , [double[]]@(-2.0) + , [double[]]@(0.3)
    }

    It 'calls a start that ends at no fixed or stationary point Failed (Stalled or IterationLimit), never Slow, even with -MaxQ' {
        $all = Find-RnnFixedPoint -Model $kink -Input 1 -InitialState $kinkStarts -All -MaxQ 1 -WarningAction SilentlyContinue
        @($all).Count | Should -Be 3
        foreach ($p in $all) {
            $p.Kind | Should -Be 'Failed'
            $p.Outcome | Should -BeIn 'Stalled', 'IterationLimit'
            $p.Gradient / [math]::Sqrt(2 * $p.Q) | Should -BeGreaterThan 0.1 -Because '|grad q| / |F(h) - h| is 1 on either side of the kink'
        }
        Find-RnnFixedPoint -Model $kink -Input 1 -InitialState $kinkStarts -MaxQ 1 -WarningAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'warns when most starts fail, and gives the account as an information record and in the verbose stream' {
        $out = Find-RnnFixedPoint -Model $kink -Input 1 -InitialState $kinkStarts -InformationVariable info -WarningVariable warned -WarningAction SilentlyContinue -Verbose 4>&1
        @($warned).Count | Should -Be 1
        $warned[0].Message | Should -Match '^3 start\(s\): 0 converged'
        $summary = @($info | Where-Object { $_.Tags -contains 'Summary' })[0].MessageData
        $summary.Starts | Should -Be 3
        $summary.Converged | Should -Be 0
        $summary.Stalled + $summary.IterationLimit | Should -Be 3
        $summary.Points | Should -Be 0
        (@($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n") | Should -Match '0 point\(s\) kept'
    }

    It 'certifies a slow point by its gradient and counts the starts that reached it' {
        $m = New-RnnModel -InputSize 1 -HiddenSize 1 -NoBias -Seed 1
        $path = Join-Path $TestDrive 'ghost2.safetensors'
        $m.Parameters['weight_hh_l0'].Data[0] = 2.0
        $m.Parameters['weight_ih_l0'].Data[0] = 1.2
        $m | Export-RnnModel -Path $path
        $ghost = Import-RnnModel $path
        $all = Find-RnnFixedPoint -Model $ghost -Input 1 -InitialState ([double[][]](-1.5, -0.8)) -All -InformationVariable info -WarningAction SilentlyContinue
        foreach ($p in $all) {
            $p.Kind | Should -Be 'Slow'
            $p.Outcome | Should -Be 'Slow'
            $p.Gradient | Should -BeLessOrEqual (1e-6 * [math]::Sqrt(2 * $p.Q))
        }
        ($info | Where-Object { $_.Tags -contains 'Summary' }).MessageData.Slow | Should -Be 2
    }
}

Describe 'Every point the toolkits'' Adam finds' {
    It 'finds all 27 points of a trained 16-unit flip-flop that Adam finds from the same 512 starts, the 2 saddles descent misses by its probes' {
        # bench/networks/flipflop16.pt (bench/train_networks.py); the starts and Adam's points, polished by Newton in
        # PyTorch, from bench/bench_fixedpoints.py --set issue17 --only flipflop16.
        $m = Import-RnnModel (Join-Path $PSScriptRoot '../bench/networks/flipflop16.pt')
        $starts = [double[][]]@(Import-RnnState (Join-Path $script:Fixtures 'fixedpoints/flipflop16_starts.npy') | ForEach-Object { , $_.State })
        $adam = @(Import-RnnState (Join-Path $script:Fixtures 'fixedpoints/flipflop16_adam_points.npy') | ForEach-Object { , $_.State })
        $adam.Count | Should -Be 27
        $found = @(Find-RnnFixedPoint -Model $m -InitialState $starts -InformationVariable info)
        $withoutProbes = @(Find-RnnFixedPoint -Model $m -InitialState $starts -NoProbes)
        function Covered($points) { @($adam | Where-Object { $a = $_; @($points | Where-Object { (Get-Distance $a $_.State) -le 1e-6 }).Count -gt 0 }).Count }
        Covered $found | Should -Be 27
        Covered $withoutProbes | Should -BeLessThan 27 -Because 'descent from these starts misses saddles: the probes are what finds them'
        $byProbe = @($found | Where-Object FirstStart -eq -1)
        $byProbe.Count | Should -Be (27 - (Covered $withoutProbes))
        foreach ($p in $byProbe) { $p.StartCount | Should -Be 0; $p.Q | Should -BeLessThan 1e-20 }
        ($info | Where-Object { $_.Tags -contains 'Summary' }).MessageData.ProbePoints | Should -Be $byProbe.Count
    }
}

Describe 'Find-RnnFixedPoint on the bundled flip-flop network' {
    BeforeAll {
        $m = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $rng = [Random]::new(3)
        $inputs = foreach ($t in 0..599) {
            $x = [double[]](0, 0, 0)
            if ($rng.NextDouble() -lt 0.05) { $x[$rng.Next(3)] = if ($rng.NextDouble() -lt 0.5) { 1 } else { -1 } }
            , $x
        }
        $traj = Get-RnnTrajectory -Model $m -InputSequence $inputs
        $fps = $traj | Find-RnnFixedPoint -Model $m -Count 1024 -Noise 0.5 -Seed 1
    }

    It 'finds exactly 8 stable points, whose readouts are the 8 sign patterns' {
        $stable = @($fps | Where-Object IsStable)
        $stable.Count | Should -Be 8
        $patterns = $stable | ForEach-Object { ($_.Output | ForEach-Object { if ($_ -gt 0) { '+' } else { '-' } }) -join '' } | Sort-Object -Unique
        @($patterns).Count | Should -Be 8
        foreach ($s in $stable) { $s.Output | ForEach-Object { [math]::Abs($_) | Should -BeGreaterThan 0.5 } }
    }

    It 'finds saddles between them, and every point at q below 1e-20' {
        @($fps | Where-Object Kind -eq 'Saddle').Count | Should -BeGreaterOrEqual 12
        $fps | ForEach-Object { $_.Q | Should -BeLessThan 1e-20 }
        ($fps | Measure-Object StartCount -Sum).Sum | Should -BeLessOrEqual 1024
        $fps.Index | Should -Be (0..($fps.Count - 1))
    }

    It 'keeps every start with -All, and is repeatable with -Seed' {
        $all = $traj | Find-RnnFixedPoint -Model $m -Count 64 -Noise 0.5 -Seed 2 -All
        $all.Count | Should -Be 64
        $again = $traj | Find-RnnFixedPoint -Model $m -Count 64 -Noise 0.5 -Seed 2 -All
        for ($i = 0; $i -lt 64; $i++) { $again[$i].State | Should -Be $all[$i].State }
    }

    It 'writes a table, JSON and CSV that a user can read' {
        ($fps | Format-Table | Out-String) | Should -Match 'Stable'
        $json = $fps[0] | ConvertTo-Json -Depth 4 | ConvertFrom-Json
        $json.Kind | Should -Not -BeNullOrEmpty
        $json.State.Count | Should -Be 24
        $csv = $fps | Select-Object Index, Kind, Q, UnstableCount, SpectralRadius, SlowestTimeConstant, LineAttractorScore | ConvertTo-Csv | ConvertFrom-Csv
        $csv.Count | Should -Be $fps.Count
    }
}

Describe 'Find-RnnFixedPoint on a 256-unit flip-flop, where later Newton steps reuse each start''s factors' {
    It 'finds the 8 memories and saddles between them at q below 1e-20, and reports progress while it searches' {
        # bench/flipflop256.pt: trained by examples/train_flipflop.py --hidden 256. Run in its own PowerShell to read
        # its progress records.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$($script:ModulePath)'; `$m = Import-RnnModel '$PSScriptRoot/../bench/flipflop256.pt'; " +
                "`$rng = [Random]::new(5); `$inputs = foreach (`$t in 0..599) { `$x = [double[]](0, 0, 0); " +
                "if (`$rng.NextDouble() -lt 0.05) { `$x[`$rng.Next(3)] = if (`$rng.NextDouble() -lt 0.5) { 1 } else { -1 } }; , `$x }; " +
                "Get-RnnTrajectory -Model `$m -InputSequence `$inputs | Find-RnnFixedPoint -Model `$m -Count 256 -Noise 0.5 -Seed 4")
            $fps = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $stable = @($fps | Where-Object IsStable)
            $stable.Count | Should -Be 8
            @($stable | ForEach-Object { ($_.Output | ForEach-Object { if ($_ -gt 0) { '+' } else { '-' } }) -join '' } | Sort-Object -Unique).Count | Should -Be 8
            @($fps | Where-Object Kind -eq 'Saddle').Count | Should -BeGreaterOrEqual 6
            $fps | ForEach-Object { $_.Q | Should -BeLessThan 1e-20 }
            $progress = @($ps.Streams.Progress)
            @($progress | Where-Object StatusDescription -Match 'starts still moving').Count | Should -BeGreaterThan 0
            $progress[-1].RecordType | Should -Be 'Completed'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Get-RnnFlowField against PyTorch' {
    BeforeAll {
        $f = Get-FixedPointFixture 'rnn_i2_h6_readout'
        function Assert-Flow($Expected, $Actual) {
            $Actual.Count | Should -Be $Expected.Count
            for ($i = 0; $i -lt $Expected.Count; $i++) {
                Assert-Close $Expected[$i].x $Actual[$i].X -Rel 1e-9 -Abs 1e-12
                Assert-Close $Expected[$i].y $Actual[$i].Y -Rel 1e-9 -Abs 1e-12
                Assert-Close $Expected[$i].vx $Actual[$i].VX -Rel 1e-10 -Abs 1e-12
                Assert-Close $Expected[$i].vy $Actual[$i].VY -Rel 1e-10 -Abs 1e-12
                Assert-Close $Expected[$i].speed $Actual[$i].Speed -Rel 1e-10 -Abs 1e-12
                Assert-Close $Expected[$i].state $Actual[$i].State -Rel 1e-9 -Abs 1e-12
            }
        }
    }

    It 'projects F(h) - h on given axes, on a grid around a given centre' {
        $g = $f.flow.axes
        $flow = Get-RnnFlowField -Model $f.Model -Input ([double[]]$f.input) -Axes ([double[][]]$g.axes) -Center ([double[]]$g.center) -Extent ([double[]]$g.extent) -GridSize $g.grid
        Assert-Flow $g.points $flow
    }

    It 'uses the piped states'' first two principal components and their mean' {
        $g = $f.flow.pca
        $flow = $f.starts | ForEach-Object { [pscustomobject]@{ State = [double[]]$_ } } |
            Get-RnnFlowField -Model $f.Model -Input ([double[]]$f.input) -Extent ([double[]]$g.extent) -GridSize $g.grid
        Assert-Flow $g.points $flow
    }

    It 'gives the linearised flow about a state with -Linear -AroundState' {
        $g = $f.flow.linear
        $flow = Get-RnnFlowField -Model $f.Model -Input ([double[]]$f.input) -Axes ([double[][]]$g.axes) -Center ([double[]]$g.center) -Extent ([double[]]$g.extent) -GridSize $g.grid -Linear -AroundState ([double[]]$g.around)
        Assert-Flow $g.points $flow
    }

    It 'is still at a fixed point' {
        $fp = Find-RnnFixedPoint -Model $f.Model -Input ([double[]]$f.input) -InitialState ([double[][]]$f.starts) | Select-Object -First 1
        $flow = Get-RnnFlowField -Model $f.Model -Input ([double[]]$f.input) -Axes ([double[][]]$f.flow.axes.axes) -Center $fp.State -Extent 0.1 -GridSize 3
        $flow[4].X | Should -Be 0
        $flow[4].Speed | Should -BeLessThan 1e-12
        $flow | Where-Object Index -ne 4 | ForEach-Object { $_.Speed | Should -BeGreaterThan 1e-6 }
        $flow[0].Output.Count | Should -Be 2
    }
}

Describe 'Fixed points and flow fields: errors' {
    BeforeAll { $m = New-RnnModel -InputSize 2 -HiddenSize 3 -Seed 4 }

    It 'says so when there is no state to start from' {
        { @() | Find-RnnFixedPoint -Model $m -ErrorAction Stop } | Should -Throw -ErrorId 'NoInitialStates,RnnLinearization.FindRnnFixedPointCommand'
    }

    It 'reports a start of the wrong length and goes on with the others' {
        $errs = $null
        $found = @([double[]](0.1, 0.2, 0.3), [double[]](1, 2)) | ForEach-Object { [pscustomobject]@{ State = $_ } } |
            Find-RnnFixedPoint -Model $m -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'StateLengthMismatch,RnnLinearization.FindRnnFixedPointCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        @($found).Count | Should -BeGreaterThan 0
    }

    It 'says none of the piped states could be used, rather than that none were piped' {
        { @([double[]](1, 2), [double[]](3, 4)) | ForEach-Object { [pscustomobject]@{ State = $_ } } | Find-RnnFixedPoint -Model $m -ErrorAction SilentlyContinue -ErrorVariable e } |
            Should -Throw -ErrorId 'NoInitialStates,RnnLinearization.FindRnnFixedPointCommand' -ExpectedMessage '*None of the 2 piped state(s)*'
    }

    It 'reports a piped object without a State (InputObjectHasNoState)' {
        $errs = $null
        $found = @([pscustomobject]@{ State = [double[]](0.1, 0.2, 0.3) }, 'not a state') | Find-RnnFixedPoint -Model $m -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'InputObjectHasNoState,RnnLinearization.FindRnnFixedPointCommand'
        @($found).Count | Should -BeGreaterThan 0
    }

    It 'warns when every piped state carries one input other than -Input, and not for a driven trajectory' {
        $held = 1..5 | ForEach-Object { [pscustomobject]@{ State = [double[]]((0.1 * $_), 0, 0); Input = [double[]](0, 1) } }
        $null = $held | Find-RnnFixedPoint -Model $m -WarningVariable w -WarningAction SilentlyContinue
        "$w" | Should -BeLike '*All 5 piped states carry the input (0, 1), but the search runs at -Input (0, 0)*-Input 0,1*'
        $null = $held | Find-RnnFixedPoint -Model $m -Input 0, 1 -WarningVariable same -WarningAction SilentlyContinue
        "$same" | Should -Not -BeLike '*piped states carry*'
        $driven = 1..5 | ForEach-Object { [pscustomobject]@{ State = [double[]]((0.1 * $_), 0, 0); Input = [double[]](0, (0.5 * ($_ % 2))) } }
        $null = $driven | Find-RnnFixedPoint -Model $m -WarningVariable varied -WarningAction SilentlyContinue
        "$varied" | Should -Not -BeLike '*piped states carry*' -Because 'states met under varying inputs are only starts'
    }

    It 'says so when a shard holds no starts' {
        $found = Find-RnnFixedPoint -Model $m -InitialState @(, [double[]](0, 0, 0)) -Shard 1 -ShardCount 2 -WarningVariable w -WarningAction SilentlyContinue
        @($found).Count | Should -Be 0
        "$w" | Should -BeLike '*Shard 1 of 2 holds no starts*'
    }

    It 'names the missing cell vector when an LSTM start holds h alone' {
        $lstm = New-RnnModel -Architecture Lstm -InputSize 1 -HiddenSize 3 -Seed 1
        { Find-RnnFixedPoint -Model $lstm -InitialState @(, [double[]](0, 0, 0)) -ErrorAction Stop } | Should -Throw -ExpectedMessage "*an LSTM's h alone*"
    }

    It 'refuses an input of the wrong length' {
        { Find-RnnFixedPoint -Model $m -Input 1, 2, 3 -InitialState @(, [double[]](0, 0, 0)) -ErrorAction Stop } |
            Should -Throw -ErrorId 'InputLengthMismatch,RnnLinearization.FindRnnFixedPointCommand'
    }

    It 'needs two independent states or -Axes for a plane' {
        { [pscustomobject]@{ State = [double[]](0, 0, 0) } | Get-RnnFlowField -Model $m -ErrorAction Stop } |
            Should -Throw -ErrorId 'PlaneUndefined,RnnLinearization.GetRnnFlowFieldCommand'
        { Get-RnnFlowField -Model $m -Axes ([double[]](1, 0, 0)), ([double[]](2, 0, 0)) -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidAxes,RnnLinearization.GetRnnFlowFieldCommand'
        { Get-RnnFlowField -Model $m -Axes ([double[]](1, 0, 0)), ([double[]](0, 1, 0)) -Extent 0, 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidExtent,RnnLinearization.GetRnnFlowFieldCommand'
    }

    It 'takes -AroundState only with -Linear' {
        # Both are mandatory in their own parameter set (checked on the metadata: binding one alone would prompt).
        $sets = (Get-Command Get-RnnFlowField).Parameters
        $sets['AroundState'].ParameterSets.Keys | Should -Be 'Linear'
        $sets['AroundState'].ParameterSets['Linear'].IsMandatory | Should -BeTrue
        $sets['Linear'].ParameterSets['Linear'].IsMandatory | Should -BeTrue
        $flow = Get-RnnFlowField -Model $m -Axes ([double[]](1, 0, 0)), ([double[]](0, 1, 0)) -Linear -AroundState 0, 0, 0 -GridSize 2
        $flow.Count | Should -Be 4
    }
}
