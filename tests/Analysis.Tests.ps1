BeforeDiscovery {
    $names = Get-ChildItem (Join-Path $PSScriptRoot 'fixtures/expected') -Filter *.json | ForEach-Object BaseName
    $script:Models = foreach ($n in $names) {
        @{ Name = $n; Extension = '.pt' }
        if (Test-Path (Join-Path $PSScriptRoot "fixtures/models/$n.safetensors")) { @{ Name = $n; Extension = '.safetensors' } }
    }
}

BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

Describe 'Cmdlets against real PyTorch: <Name><Extension>' -ForEach $Models {
    BeforeAll {
        $f = Get-Fixture $Name
        $m = Get-FixtureModel $Name $Extension
    }

    It 'reads the model shape' {
        $m.InputSize | Should -Be $f.input_size
        $m.HiddenSize | Should -Be $f.hidden_size
        $m.NumLayers | Should -Be $f.num_layers
        $perLayer = if ($f.architecture -eq 'Lstm') { 2 * $f.hidden_size } else { $f.hidden_size }   # [h; c] for an LSTM
        $m.StateSize | Should -Be ($perLayer * $f.num_layers)
        $m.StateSize | Should -Be $f.cases[0].state.Count
        $m.Architecture | Should -Be $f.architecture
        if ($f.architecture -eq 'TorchScript') { $m.Nonlinearity | Should -BeNullOrEmpty; return }
        $m.HasBias | Should -Be $f.bias
        $m.Nonlinearity | Should -Be $f.nonlinearity
    }

    It 'Get-RnnJacobian gives NextState and both Jacobians as proper 2-D matrices' {
        foreach ($c in $f.cases) {
            $j = Get-RnnJacobian -Model $m -Input $c.input -State $c.state
            Assert-Close $c.next_state $j.NextState
            $j.StateJacobian.Count | Should -Be $m.StateSize
            $j.StateJacobian[0].Count | Should -Be $m.StateSize
            $j.InputJacobian.Count | Should -Be $m.StateSize
            $j.InputJacobian[0].Count | Should -Be $m.InputSize
            Assert-Close $c.state_jacobian $j.StateJacobian
            Assert-Close $c.input_jacobian $j.InputJacobian
        }
    }

    It 'Get-RnnEigen -Sort None gives the eigenvalues of torch.linalg.eig, sorted ones by magnitude' {
        foreach ($c in $f.cases) {
            $e = Get-RnnEigen -Model $m -Input $c.input -State $c.state -Sort None
            $expected = for ($k = 0; $k -lt $c.eig_real64.Count; $k++) { [System.Numerics.Complex]::new($c.eig_real64[$k], $c.eig_imag64[$k]) }
            $e.Eigenvalues.Count | Should -Be $expected.Count
            foreach ($x in $expected) {
                ($e.Eigenvalues | ForEach-Object { [System.Numerics.Complex]::Abs($_ - $x) } | Measure-Object -Minimum).Minimum | Should -BeLessOrEqual 1e-9
            }
            $sorted = Get-RnnEigen -Model $m -Input $c.input -State $c.state
            $sorted.Magnitude | Should -Be ($sorted.Magnitude | Sort-Object -Descending)
            Assert-Close ($expected | ForEach-Object Magnitude | Measure-Object -Maximum).Maximum $sorted.SpectralRadius -Rel 1e-9
            $sorted.UnstableCount | Should -Be @($expected | Where-Object Magnitude -gt 1).Count
        }
    }

    It 'Invoke-RnnLinearization gives the seed''s forward, and -Exact the true step of nn.RNN' {
        foreach ($c in $f.cases) {
            $steps = Invoke-RnnLinearization -Model $m -Input $c.input -State $c.state -DeltaInput $c.delta_input -DeltaState $c.delta_state -Exact
            $steps.Count | Should -Be $c.delta_state.Count
            for ($r = 0; $r -lt $steps.Count; $r++) {
                $steps[$r].Row | Should -Be $r
                Assert-Close $c.taylor[$r] $steps[$r].Linear
                Assert-Close $c.exact[$r] $steps[$r].Exact
                Assert-Close ($c.exact[$r] | ForEach-Object { $_ }) (0..($m.StateSize - 1) | ForEach-Object { $steps[$r].Linear[$_] + $steps[$r].Error[$_] }) -Rel 1e-9 -Abs 1e-12
            }
        }
    }

    It 'Get-RnnTrajectory reproduces nn.RNN over a sequence' {
        $t = $f.trajectory
        $states = Get-RnnTrajectory -Model $m -InputSequence $t.inputs -InitialState $t.initial_state
        $states.Count | Should -Be $t.states.Count
        $states.Index | Should -Be (0..($t.states.Count - 1))
        for ($k = 0; $k -lt $states.Count; $k++) {
            Assert-Close $t.states[$k] $states[$k].NextState
            if ($k -eq 0) { Assert-Close $t.initial_state $states[0].State -Rel 0 -Abs 0 }
            else { $states[$k].State | Should -Be $states[$k - 1].NextState }
            Assert-Close $t.inputs[$k] $states[$k].Input -Rel 0 -Abs 0
        }
        # Each record is the step taken: linearised, its NextState is the trajectory's next state.
        $j = $states | Get-RnnJacobian -Model $m
        for ($k = 0; $k -lt $states.Count; $k++) { Assert-Close $t.states[$k] $j[$k].NextState }
    }
}

Describe 'The pipeline' {
    BeforeAll {
        $f = Get-Fixture 'rnn_i3_h7_tanh'
        $m = Get-FixtureModel 'rnn_i3_h7_tanh'
        $items = for ($k = 0; $k -lt $f.cases.Count; $k++) {
            [pscustomobject]@{ Index = 10 + $k; Input = $f.cases[$k].input; State = $f.cases[$k].state }
        }
    }

    It 'binds Input, State and Index by property name, in batches of any size' -ForEach @(1, 2, 256) {
        $out = $items | Get-RnnJacobian -Model $m -BatchSize $_
        $out.Index | Should -Be @(10, 11, 12)
        for ($k = 0; $k -lt $out.Count; $k++) { Assert-Close $f.cases[$k].state_jacobian $out[$k].StateJacobian }
    }

    It 'numbers states by position when they carry no Index' {
        $out = $f.cases | ForEach-Object { [pscustomobject]@{ State = $_.state; Input = $_.input } } | Get-RnnEigen -Model $m
        $out.Index | Should -Be @(0, 1, 2)
    }

    It 'takes RnnJacobian objects into Get-RnnEigen without a model' {
        $viaJacobian = $items | Get-RnnJacobian -Model $m | Get-RnnEigen
        $direct = $items | Get-RnnEigen -Model $m
        $viaJacobian.Index | Should -Be $direct.Index
        for ($k = 0; $k -lt $direct.Count; $k++) { Assert-Close $direct[$k].Real $viaJacobian[$k].Real -Rel 1e-9 -Abs 1e-12 }
    }

    It 'uses the command-line -Input for every piped state' {
        $x = $f.cases[0].input
        $out = $f.cases | ForEach-Object { [pscustomobject]@{ State = $_.state } } | Get-RnnJacobian -Model $m -Input $x
        Assert-Close $f.cases[0].state_jacobian $out[0].StateJacobian
        $out[1].Input | Should -Be $x
    }

    It 'Get-RnnTrajectory | Get-RnnEigen analyses each time step at its own input' {
        $t = $f.trajectory
        $states = Get-RnnTrajectory -Model $m -InputSequence $t.inputs -InitialState $t.initial_state
        $eig = $states | Get-RnnEigen -Model $m -NoEigenvectors
        $eig.Count | Should -Be $states.Count
        $eig[2].Input | Should -Be $t.inputs[2]
        $eig[0].Eigenvectors | Should -BeNullOrEmpty
        $direct = Get-RnnJacobian -Model $m -Input $t.inputs[3] -State $states[3].State | Get-RnnEigen -NoEigenvectors
        Assert-Close $direct.Magnitude $eig[3].Magnitude -Rel 1e-9
    }

    It 'Import-RnnState | Get-RnnEigen -PerMode | Export-Csv writes one row per mode' {
        $csv = Join-Path $TestDrive 'modes.csv'
        Import-RnnState (Join-Path $script:Fixtures 'states/states_f64.npy') |
            Get-RnnEigen -Model (New-RnnModel -InputSize 2 -HiddenSize 3 -Seed 4) -PerMode | Export-Csv $csv
        $rows = Import-Csv $csv
        $rows.Count | Should -Be 12
        $rows[0].PSObject.Properties.Name | Should -Be @('Index', 'SourceRow', 'Trial', 'Mode', 'Real', 'Imaginary', 'Magnitude', 'Angle', 'TimeConstant', 'Period', 'Dt', 'ContinuousEigenvalue')
        ($rows | Group-Object Index).Count | Should -Be 4
        ($rows | Group-Object SourceRow).Name | Should -Be @('0', '1', '2', '3') -Because 'each mode names its row of the file'
        $rows | ForEach-Object { [double]$_.Magnitude | Should -BeGreaterOrEqual 0 }
    }

    It 'writes infinite time constants and periods so that Export-Csv and ConvertTo-Json can be read back' {
        $jac = [RnnLinearization.RnnJacobian]@{ Index = 0; State = [double[]](0, 0); StateJacobian = [double[][]]@([double[]](1, 0), [double[]](0, 0.5)) }
        $csv = Join-Path $TestDrive 'inf.csv'
        $jac | Get-RnnEigen -PerMode | Export-Csv $csv
        [double]::Parse((Import-Csv $csv)[0].Period, [Globalization.CultureInfo]::InvariantCulture) | Should -Be ([double]::PositiveInfinity)
        $json = $jac | Get-RnnEigen -PerMode | ConvertTo-Json | ConvertFrom-Json
        [double]$json[0].TimeConstant | Should -Be ([double]::PositiveInfinity)
    }

    It 'keeps full arrays through ConvertTo-Json -Depth 5' {
        $j = $items[0] | Get-RnnJacobian -Model $m
        $back = $j | ConvertTo-Json -Depth 5 | ConvertFrom-Json
        Assert-Close $j.StateJacobian $back.StateJacobian -Rel 1e-15
        Assert-Close $j.NextState $back.NextState -Rel 1e-15
        $e = $items[0] | Get-RnnEigen -Model $m
        $eb = $e | ConvertTo-Json -Depth 5 | ConvertFrom-Json
        $eb.Real.Count | Should -Be 7
        $eb.Eigenvectors.Count | Should -Be 7
        $eb.Eigenvectors[0][0].Real | Should -Be $e.Eigenvectors[0][0].Real
    }
}

Describe 'Precision and memory' {
    It '-Precision Single gives float32-close numbers' {
        $f = Get-Fixture 'rnn_i3_h64_tanh'
        $m = Get-FixtureModel 'rnn_i3_h64_tanh'
        $c = $f.cases[0]
        $j = Get-RnnJacobian -Model $m -Input $c.input -State $c.state -Precision Single
        Assert-Close $c.state_jacobian $j.StateJacobian -Rel 1e-4 -Abs 1e-6
        $e = Get-RnnEigen -Model $m -Input $c.input -State $c.state -Precision Single -Sort None
        $expected = for ($k = 0; $k -lt $c.eig_real64.Count; $k++) { [System.Numerics.Complex]::new($c.eig_real64[$k], $c.eig_imag64[$k]) }
        foreach ($x in $expected) {
            ($e.Eigenvalues | ForEach-Object { [System.Numerics.Complex]::Abs($_ - $x) } | Measure-Object -Minimum).Minimum | Should -BeLessOrEqual 1e-4
        }
        $t = Invoke-RnnLinearization -Model $m -Input $c.input -State $c.state -DeltaInput $c.delta_input -DeltaState $c.delta_state -Precision Single
        Assert-Close $c.taylor[0] $t[0].Linear -Rel 1e-4 -Abs 1e-6
    }

    It 'streams 20,000 states through Get-RnnEigen with flat memory' {
        # The full-size check (200,000 states) is a Bench line; this one keeps the test suite short.
        $m = New-RnnModel -InputSize 3 -HiddenSize 32 -Seed 2
        $proc = [Diagnostics.Process]::GetCurrentProcess()
        $state = [double[]]::new(32)
        $source = { param($n) for ($i = 0; $i -lt $n; $i++) { $state[$i % 32] = [math]::Sin($i); [RnnLinearization.RnnState]@{ Index = $i; State = $state.Clone() } } }
        & $source 2000 | Get-RnnEigen -Model $m | Out-Null   # warm-up
        [GC]::Collect(); $proc.Refresh(); $before = $proc.WorkingSet64
        $peak = 0
        & $source 20000 | Get-RnnEigen -Model $m | ForEach-Object -Begin { $k = 0 } -Process {
            if (++$k % 2000 -eq 0) { $proc.Refresh(); $peak = [math]::Max($peak, $proc.WorkingSet64) }
        }
        $k | Should -Be 20000
        ($peak - $before) / 1MB | Should -BeLessThan 100
    }
}

Describe 'Eigen time scales against closed form' {
    It 'gives time constant -1/ln|lambda| and period 2 pi/|angle| for a known spectrum' {
        # A hidden-size-2 relu model whose state Jacobian is exactly W_hh where both units are active.
        $m = New-RnnModel -InputSize 1 -HiddenSize 2 -Nonlinearity Relu -NoBias -Seed 11
        $w = $m.Parameters['weight_hh_l0'].Data
        # The state with W_hh h = (1, 1): both pre-activations positive, so J = W_hh exactly.
        $d = $w[0] * $w[3] - $w[1] * $w[2]
        $state = @((($w[3] - $w[1]) / $d), (($w[0] - $w[2]) / $d))
        $modes = Get-RnnEigen -Model $m -State $state -Input 0 -PerMode
        # Closed-form eigenvalues of the 2x2 matrix.
        $tr = $w[0] + $w[3]; $det = $w[0] * $w[3] - $w[1] * $w[2]; $disc = $tr * $tr / 4 - $det
        $lams = if ($disc -ge 0) { @([Numerics.Complex]::new($tr / 2 + [math]::Sqrt($disc), 0), [Numerics.Complex]::new($tr / 2 - [math]::Sqrt($disc), 0)) }
                else { @([Numerics.Complex]::new($tr / 2, [math]::Sqrt(-$disc)), [Numerics.Complex]::new($tr / 2, -[math]::Sqrt(-$disc))) }
        foreach ($mode in $modes) {
            $l = $lams | Sort-Object { [Numerics.Complex]::Abs($_ - [Numerics.Complex]::new($mode.Real, $mode.Imaginary)) } | Select-Object -First 1
            [Numerics.Complex]::Abs($l - [Numerics.Complex]::new($mode.Real, $mode.Imaginary)) | Should -BeLessOrEqual 1e-12
            Assert-Close (-1 / [math]::Log($l.Magnitude)) $mode.TimeConstant -Rel 1e-9
            Assert-Close $l.Phase $mode.Angle -Rel 1e-9
            if ($l.Imaginary -eq 0 -and $l.Real -gt 0) { $mode.Period | Should -Be ([double]::PositiveInfinity) }
            else { Assert-Close (2 * [math]::PI / [math]::Abs($l.Phase)) $mode.Period -Rel 1e-12 }
        }
    }

    It 'gives an infinite time constant for |lambda| = 1 and infinite period for a real eigenvalue' {
        $jac = [RnnLinearization.RnnJacobian]@{ Index = 0; State = [double[]](0, 0); StateJacobian = [double[][]]@([double[]](1, 0), [double[]](0, 0.5)) }
        $modes = $jac | Get-RnnEigen -PerMode
        $modes[0].Magnitude | Should -Be 1
        $modes[0].TimeConstant | Should -Be ([double]::PositiveInfinity)
        $modes[0].Period | Should -Be ([double]::PositiveInfinity)
        $modes[1].TimeConstant | Should -Be (-1 / [math]::Log(0.5))
    }
}

Describe 'Models' {
    It 'finds an RNN under a key prefix, given or inferred' {
        $f = Get-Fixture 'prefixed_rnn_i3_h7_tanh'
        $path = Join-Path $script:Fixtures 'models/prefixed_rnn_i3_h7_tanh.pt'
        foreach ($m in @((Import-RnnModel $path), (Import-RnnModel $path -Prefix rnn))) {
            $j = Get-RnnJacobian -Model $m -Input $f.cases[0].input -State $f.cases[0].state
            Assert-Close $f.cases[0].state_jacobian $j.StateJacobian
        }
    }

    It 'New-RnnModel draws weights in PyTorch''s range, reproducibly with -Seed' {
        $a = New-RnnModel -InputSize 3 -HiddenSize 16 -NumLayers 2 -Seed 7
        $b = New-RnnModel -InputSize 3 -HiddenSize 16 -NumLayers 2 -Seed 7
        $c = New-RnnModel -InputSize 3 -HiddenSize 16 -NumLayers 2 -Seed 8
        $a.Parameters['weight_hh_l1'].Data | Should -Be $b.Parameters['weight_hh_l1'].Data
        $a.Parameters['weight_hh_l1'].Data | Should -Not -Be $c.Parameters['weight_hh_l1'].Data
        $a.Parameters.Keys | Sort-Object | Should -Be @('bias_hh_l0', 'bias_hh_l1', 'bias_ih_l0', 'bias_ih_l1', 'weight_hh_l0', 'weight_hh_l1', 'weight_ih_l0', 'weight_ih_l1')
        $all = $a.Parameters.Values | ForEach-Object { $_.Data }
        ($all | Measure-Object -Maximum).Maximum | Should -BeLessOrEqual 0.25
        ($all | Measure-Object -Minimum).Minimum | Should -BeGreaterOrEqual -0.25
        ($all | Measure-Object -Maximum).Maximum | Should -BeGreaterThan 0.2
        $a.Parameters['weight_ih_l0'].Shape | Should -Be @(16, 3)
        $a.Parameters['weight_ih_l1'].Shape | Should -Be @(16, 16)
    }

    It 'Export-RnnModel writes safetensors that Import-RnnModel reads back to the same numbers (<Architecture> <Nl>)' -ForEach @(
        @{ Architecture = 'Rnn'; Nl = 'Tanh'; Layers = 1; Bias = $true }, @{ Architecture = 'Rnn'; Nl = 'Relu'; Layers = 2; Bias = $false },
        @{ Architecture = 'Gru'; Nl = 'Tanh'; Layers = 2; Bias = $true }, @{ Architecture = 'Lstm'; Nl = 'Tanh'; Layers = 1; Bias = $true },
        @{ Architecture = 'LeakyRnn'; Nl = 'Softplus'; Layers = 1; Bias = $true }) {
        $alpha = if ($Architecture -eq 'LeakyRnn') { @{ Alpha = 0.25 } } else { @{} }
        $m = New-RnnModel -InputSize 2 -HiddenSize 5 -NumLayers $Layers -Architecture $Architecture -Nonlinearity $Nl -NoBias:(-not $Bias) -Seed 3 @alpha
        $path = Join-Path $TestDrive "model-$Nl.safetensors"
        $file = Export-RnnModel -Model $m -Path $path -PassThru
        $file.Length | Should -BeGreaterThan 0
        $back = Import-RnnModel $path
        $back.Nonlinearity | Should -Be $Nl
        $back.Architecture | Should -Be $Architecture
        $back.NumLayers | Should -Be $Layers
        $back.HasBias | Should -Be $Bias
        foreach ($k in $m.Parameters.Keys) { $back.Parameters[$k].Data | Should -Be $m.Parameters[$k].Data }
        $state = 1..$m.StateSize | ForEach-Object { 0.1 * $_ - 0.4 }
        $j1 = Get-RnnJacobian -Model $m -State $state -Input 0.3, -0.2
        $j2 = Get-RnnJacobian -Model $back -State $state -Input 0.3, -0.2
        Assert-Close $j1.StateJacobian $j2.StateJacobian -Rel 1e-13 -Abs 1e-15   # same weights; BLAS may round the last bit differently
    }

    It 'closed-form Jacobians of a stacked <Architecture> <Nl> model agree with central finite differences' -ForEach @(
        @{ Architecture = 'Rnn'; Nl = 'Tanh' }, @{ Architecture = 'Rnn'; Nl = 'Relu' }, @{ Architecture = 'Gru'; Nl = 'Tanh' }, @{ Architecture = 'Lstm'; Nl = 'Tanh' },
        @{ Architecture = 'LeakyRnn'; Nl = 'Sigmoid' }) {
        $extra = if ($Architecture -eq 'LeakyRnn') { @{ NumLayers = 1; Alpha = 0.3 } } else { @{ NumLayers = 3 } }
        $m = New-RnnModel -InputSize 2 -HiddenSize 4 -Architecture $Architecture -Nonlinearity $Nl -Seed 21 @extra
        $x = 0.3, -0.7
        $n = $m.StateSize
        $h = 1..$n | ForEach-Object { [math]::Sin($_) }
        $j = Get-RnnJacobian -Model $m -Input $x -State $h
        $eps = 1e-6
        for ($col = 0; $col -lt $n; $col++) {
            $hp = [double[]]$h.Clone(); $hp[$col] += $eps
            $hm = [double[]]$h.Clone(); $hm[$col] -= $eps
            $fp = (Get-RnnJacobian -Model $m -Input $x -State $hp).NextState
            $fm = (Get-RnnJacobian -Model $m -Input $x -State $hm).NextState
            for ($row = 0; $row -lt $n; $row++) {
                [math]::Abs(($fp[$row] - $fm[$row]) / (2 * $eps) - $j.StateJacobian[$row][$col]) | Should -BeLessOrEqual 1e-6
            }
        }
    }
}

Describe 'Batches of large states' {
    It 'caps -BatchSize so that a batch of 1,024-unit matrices stays near 512 MB, and says so' {
        $big = New-RnnModel -InputSize 1 -HiddenSize 1024 -Seed 3
        $states = 1..3 | ForEach-Object { [RnnLinearization.RnnState]@{ Index = $_; State = [double[]]::new(1024) } }
        $out = $states | Get-RnnJacobian -Model $big -BatchSize 1000 -Verbose 4>&1
        $verbose = @($out | Where-Object { $_ -is [Management.Automation.VerboseRecord] })
        $verbose.Count | Should -Be 1
        $verbose[0].Message | Should -BeLike 'Batches of 64 states instead of 1000*'
        @($out | Where-Object { $_ -is [RnnLinearization.RnnJacobian] }).Index | Should -Be 1, 2, 3
        @($states | Get-RnnJacobian -Model $big -BatchSize 2 -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Count | Should -Be 0
    }
}

Describe 'TorchScript cells in batches' {
    It 'gives every state of a batch its own Jacobians and spectrum (<Name>, <Precision>)' -ForEach @(
        @{ Name = 'script_lowrank_i3_h6'; Precision = 'Double'; Rel = 1e-10 }
        @{ Name = 'script_grucell_i2_h5'; Precision = 'Double'; Rel = 1e-10 }
        @{ Name = 'script_autonomous_i2_h4'; Precision = 'Single'; Rel = 1e-3 }
    ) {
        $f = Get-Fixture $Name
        $m = Get-FixtureModel $Name
        # All cases in one batch: one backward pass per unit serves every state, so rows must not mix.
        $objs = for ($k = 0; $k -lt $f.cases.Count; $k++) { [pscustomobject]@{ Index = $k; Input = $f.cases[$k].input; State = $f.cases[$k].state } }
        $j = @($objs | Get-RnnJacobian -Model $m -Precision $Precision)
        $j.Count | Should -Be $f.cases.Count
        for ($k = 0; $k -lt $j.Count; $k++) {
            $j[$k].Index | Should -Be $k
            Assert-Close $f.cases[$k].state_jacobian $j[$k].StateJacobian -Rel $Rel -Abs 1e-6
            Assert-Close $f.cases[$k].input_jacobian $j[$k].InputJacobian -Rel $Rel -Abs 1e-6
            Assert-Close $f.cases[$k].next_state $j[$k].NextState -Rel $Rel -Abs 1e-6
        }
        $e = @($objs | Get-RnnEigen -Model $m -Precision $Precision)
        for ($k = 0; $k -lt $e.Count; $k++) {
            $radius = (0..($f.cases[$k].eig_real64.Count - 1) | ForEach-Object { [Numerics.Complex]::new($f.cases[$k].eig_real64[$_], $f.cases[$k].eig_imag64[$_]).Magnitude } | Measure-Object -Maximum).Maximum
            Assert-Close $radius $e[$k].SpectralRadius -Rel $Rel -Abs 1e-6
        }
    }
}

Describe 'The state layout of an LSTM' {
    BeforeAll {
        $f = Get-Fixture 'lstm_i3_h4_2layers'
        $m = Get-FixtureModel 'lstm_i3_h4_2layers'
        $c = $f.cases[0]
        # [h_l0; c_l0; h_l1; c_l1], 4 values each: all layers' h, then all layers' c, from the fixture's own numbers.
        function Split-Lstm($v) { , @($v[0..3] + $v[8..11]), @($v[4..7] + $v[12..15]) }
    }

    It 'names the parts of the state on the model' {
        $m.StateLayout | Should -Be 'h_l0 [0, 4), c_l0 [4, 8), h_l1 [8, 12), c_l1 [12, 16)'
        (Get-FixtureModel 'gru_i3_h5_2layers').StateLayout | Should -Be 'h_l0 [0, 5), h_l1 [5, 10)'
    }

    It 'gives Hidden, Cell, NextHidden and NextCell on Get-RnnJacobian and Invoke-RnnLinearization' {
        $j = Get-RnnJacobian -Model $m -Input $c.input -State $c.state
        $h, $cell = Split-Lstm $c.state
        $nh, $nc = Split-Lstm $c.next_state
        Assert-Close $h $j.Hidden
        Assert-Close $cell $j.Cell
        Assert-Close $nh $j.NextHidden
        Assert-Close $nc $j.NextCell
        $s = Invoke-RnnLinearization -Model $m -Input $c.input -State $c.state -DeltaState $c.delta_state[0]
        Assert-Close $nc $s.NextCell
        (Get-RnnEigen -Model $m -Input $c.input -State $c.state).PSObject.Properties.Name | Should -Contain 'Cell'
    }

    It 'summarises an LSTM step in its list view as the other records are, Hidden and Cell included' {
        $big = Get-FixtureModel 'lstm_i3_h12_nobias'
        $step = Get-RnnTrajectory -Model $big -InputSequence (1..3 | ForEach-Object { , [double[]](0.5, -0.2, 0.1) }) | Select-Object -Last 1
        $lines = ($step | Format-List | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $lines | Where-Object { $_ -match '^(Hidden|Cell|NextHidden|NextCell|State|NextState)\s+:' } | Should -HaveCount 6
        $lines | ForEach-Object { $_.Length | Should -BeLessThan 120 -Because "'$_' is a summary, not 24 numbers" }
    }

    It 'gives Hidden and Cell on every step of Get-RnnTrajectory, and they export as columns' {
        $t = $f.trajectory
        $states = Get-RnnTrajectory -Model $m -InputSequence $t.inputs -InitialState $t.initial_state
        for ($k = 0; $k -lt $states.Count; $k++) {
            $h, $cell = Split-Lstm $t.states[$k]
            Assert-Close $h $states[$k].NextHidden
            Assert-Close $cell $states[$k].NextCell
            if ($k -gt 0) {
                $h, $cell = Split-Lstm $t.states[$k - 1]
                Assert-Close $h $states[$k].Hidden
                Assert-Close $cell $states[$k].Cell
            }
        }
        ($states[0] | ConvertTo-Json | ConvertFrom-Json).Cell.Count | Should -Be 8
    }

    It 'adds no such names for other architectures' {
        $g = Get-FixtureModel 'gru_i3_h7'
        (Get-RnnJacobian -Model $g -State (1..7 | ForEach-Object { 0 })).PSObject.Properties.Name | Should -Not -Contain 'Cell'
    }
}

Describe 'Regions of a multi-region network' {
    BeforeAll {
        $f = Get-Fixture 'leaky_i3_h10_relu_dale'
        $map = Join-Path $script:Fixtures 'models/leaky_i3_h10_relu_dale.regions.json'
        $m = Import-RnnModel (Join-Path $script:Fixtures 'models/leaky_i3_h10_relu_dale.pt') -Architecture LeakyRnn -Alpha $f.alpha -Nonlinearity Relu -RegionMap $map
        $c = $f.cases[0]
    }

    It 'gives one region''s block and the coupling from one region to another' {
        $own = Get-RnnJacobian -Model $m -Input $c.input -State $c.state -Region A
        $own.Region | Should -Be 'A'
        Assert-Close ($c.state_jacobian[0..5] | ForEach-Object { , $_[0..5] }) $own.StateJacobian
        $own.StateJacobian.Count | Should -Be 6
        $own.StateJacobian[0].Count | Should -Be 6
        $coupling = Get-RnnJacobian -Model $m -Input $c.input -State $c.state -Region B, A
        $coupling.Region | Should -Be 'B<-A'
        $coupling.StateJacobian.Count | Should -Be 4
        Assert-Close ($c.state_jacobian[6..9] | ForEach-Object { , $_[0..5] }) $coupling.StateJacobian
        Assert-Close $c.input_jacobian[6..9] $coupling.InputJacobian
        Assert-Close $c.next_state[6..9] $coupling.NextState
    }

    It 'gives the spectrum of one region''s block' {
        $e = Get-RnnEigen -Model $m -Input $c.input -State $c.state -Region A
        $e.Region | Should -Be 'A'
        $e.Eigenvalues.Count | Should -Be 6
        for ($k = 0; $k -lt 6; $k++) {
            $x = [System.Numerics.Complex]::new($c.region_A_eig_real[$k], $c.region_A_eig_imag[$k])
            ($e.Eigenvalues | ForEach-Object { [System.Numerics.Complex]::Abs($_ - $x) } | Measure-Object -Minimum).Minimum | Should -BeLessOrEqual 1e-9
        }
    }

    It 'refuses <Case> with <Id>' -ForEach @(
        @{ Case = 'an unknown region'; Id = 'RegionNotFound' }, @{ Case = 'a model without a map'; Id = 'NoRegionMap' }) {
        $target = if ($Id -eq 'NoRegionMap') { Get-FixtureModel 'leaky_i3_h10_relu_dale' } else { $m }
        { Get-RnnEigen -Model $target -State $c.state -Region Z -ErrorAction Stop } | Should -Throw -ErrorId "$Id,*"
        { Get-RnnJacobian -Model $target -State $c.state -Region Z -ErrorAction Stop } | Should -Throw -ErrorId "$Id,*"
    }

    It 'refuses a region map whose ranges do not fit the model' {
        $bad = Join-Path $TestDrive 'bad.json'
        Set-Content $bad '{"A": [0, 11]}'
        { Import-RnnModel (Join-Path $script:Fixtures 'models/leaky_i3_h10_relu_dale.pt') -Architecture LeakyRnn -Alpha 0.1 -RegionMap $bad } |
            Should -Throw -ErrorId 'InvalidRegionMap,*'
    }
}

Describe 'Import-RnnState' {
    BeforeAll { $expected = Get-Content (Join-Path $script:Fixtures 'states/expected.json') -Raw | ConvertFrom-Json -NoEnumerate }

    It 'reads <File>' -ForEach @(
        @{ File = 'states_f64.npy'; Key = 'states'; Rel = 0 }, @{ File = 'states_f32.npy'; Key = 'states_f32'; Rel = 0 },
        @{ File = 'states_header.csv'; Key = 'states'; Rel = 0 }, @{ File = 'states_noheader.csv'; Key = 'states'; Rel = 0 },
        @{ File = 'states_arrays.json'; Key = 'states'; Rel = 0 }, @{ File = 'states_objects.json'; Key = 'states'; Rel = 0 }) {
        $s = Import-RnnState (Join-Path $script:Fixtures "states/$File")
        $s.Count | Should -Be 4
        $s.Index | Should -Be @(0, 1, 2, 3)
        for ($k = 0; $k -lt 4; $k++) { Assert-Close $expected.$Key[$k] $s[$k].State -Rel $Rel -Abs 0 }
    }

    It 'reads a 1-D .npy as one state and Input from JSON objects' {
        $one = @(Import-RnnState (Join-Path $script:Fixtures 'states/state_1d.npy'))
        $one.Count | Should -Be 1
        Assert-Close $expected.states[0] $one[0].State -Rel 0 -Abs 0
        $objs = Import-RnnState (Join-Path $script:Fixtures 'states/states_objects.json')
        $objs[2].Input | Should -Be $expected.inputs[2]
    }

    It 'takes paths from the pipeline (Get-ChildItem)' {
        $s = Get-ChildItem (Join-Path $script:Fixtures 'states') -Filter 'states_f*.npy' | Import-RnnState
        $s.Count | Should -Be 8
    }
}

Describe 'Trajectories linearise the steps that were taken' {
    It 'gives, under a changing input, the Jacobians of the steps whose NextState is the trajectory''s' {
        $m = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $inputs = foreach ($t in 0..9) { , [double[]]$(if ($t -eq 5) { 1, 0, 0 } else { 0, 0, 0 }) }
        $traj = Get-RnnTrajectory -Model $m -InputSequence $inputs
        $j = $traj | Get-RnnJacobian -Model $m
        for ($t = 0; $t -lt 10; $t++) {
            Assert-Close $traj[$t].NextState $j[$t].NextState -Rel 1e-12 -Abs 1e-15
            if ($t -gt 0) { $traj[$t].State | Should -Be $traj[$t - 1].NextState }
        }
        [math]::Abs($j[5].NextState[0] - $j[4].NextState[0]) | Should -BeGreaterThan 0.1 -Because 'the pulse at step 5 moves the state'
    }
}
