BeforeDiscovery {
    $script:Files = Get-Content (Join-Path $PSScriptRoot 'fixtures/realfiles/expected.json') -Raw | ConvertFrom-Json -AsHashtable |
        ForEach-Object { @{ Record = $_; Name = $_.file } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:RealFiles = Join-Path $script:Fixtures 'realfiles'
    function Get-ZipText([string] $Path, [string] $EndsWith) {
        $zip = [IO.Compression.ZipFile]::OpenRead($Path)
        try {
            $entry = $zip.Entries | Where-Object FullName -Like "*$EndsWith" | Select-Object -First 1
            $reader = [IO.StreamReader]::new($entry.Open(), [Text.Encoding]::Latin1)
            try { $reader.ReadToEnd() } finally { $reader.Dispose() }
        }
        finally { $zip.Dispose() }
    }
}

Describe 'Files as people save them: <Name>' -ForEach $Files {
    It 'loads and gives the Jacobians PyTorch computes with the original module' {
        $options = $Record.import
        $m = Import-RnnModel (Join-Path $script:RealFiles $Record.file) @options
        $m.HiddenSize | Should -Be $Record.hidden_size
        $m.NumLayers | Should -Be $Record.num_layers
        $j = Get-RnnJacobian -Model $m -Input ([double[]]$Record.input) -State ([double[]]$Record.state)
        Assert-Close $Record.next_state $j.NextState -Rel 1e-9 -Abs 1e-12
        Assert-Close $Record.state_jacobian $j.StateJacobian -Rel 1e-9 -Abs 1e-12
        Assert-Close $Record.input_jacobian $j.InputJacobian -Rel 1e-9 -Abs 1e-12
        if ($Record.ContainsKey('output')) { Assert-Close $Record.output $m.Output([double[]]$Record.state) -Rel 1e-9 -Abs 1e-12 }
        else { $m.OutputSize | Should -Be 0 }
    }
}

Describe 'Files as people save them: what makes them hard' {
    It 'has GPU files whose storages say cuda:0 and whose weights are views into one storage' {
        foreach ($f in 'gpu_gru_flat.pt', 'gpu_lstm_2layers_flat.pt') {
            $path = Join-Path $script:RealFiles $f
            $pickle = Get-ZipText $path 'data.pkl'
            $pickle | Should -Match 'cuda:0'
            $tensors = ([regex]::Matches($pickle, 'weight_|bias_')).Count
            $zip = [IO.Compression.ZipFile]::OpenRead($path)
            try { $storages = @($zip.Entries | Where-Object FullName -Match '/data/\d+$').Count } finally { $zip.Dispose() }
            $storages | Should -BeLessThan ($tensors - 2) -Because 'the RNN weights share one storage'
            if ($f -eq 'gpu_gru_flat.pt') { $storages | Should -Be 1 }
        }
    }

    It 'has a file in PyTorch 2.x''s layout' {
        $path = Join-Path $script:RealFiles 'torch2_layout_rnn_relu.pt'
        Get-ZipText $path 'byteorder' | Should -Be 'little'
        Get-ZipText $path '.format_version' | Should -Be '1'
    }

    It 'names every RNN of a checkpoint that holds several, and -Prefix takes a nested path' {
        $path = Join-Path $script:RealFiles 'checkpoint_two_rnns.pt'
        $err = { Import-RnnModel $path -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousPrefix,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match "'model_state_dict.decoder'"
        $err.Exception.Message | Should -Match "'model_state_dict.encoder'"
        (Import-RnnModel $path -Prefix model_state_dict.encoder).Architecture | Should -Be 'Gru'
    }

    It 'says in the verbose stream what it found and assumed' {
        $notes = Import-RnnModel (Join-Path $script:RealFiles 'lstmcell_in_module.pt') -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($notes -join "`n") | Should -Match 'LSTMCell'
        ($notes -join "`n") | Should -Match "head.weight"
        $notes = Import-RnnModel (Join-Path $script:RealFiles 'checkpoint_rnn.pt') -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($notes -join "`n") | Should -Match 'Tanh assumed'
    }

    It 'refuses <Case> with <Id>' -ForEach @(
        @{ Case = 'a truncated file'; File = 'bad_truncated.pt'; Id = 'UnreadableModelFile'; Pattern = 'truncated or corrupt' }) {
        $err = { Import-RnnModel (Join-Path $script:RealFiles $File) -ErrorAction Stop } | Should -Throw -ErrorId "$Id,RnnLinearization.ImportRnnModelCommand" -PassThru
        $err.Exception.Message | Should -Match $Pattern
        $err.Exception.Message | Should -Not -Match 'frame #'
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'refuses a file that would run a command on loading, and runs nothing' {
        $marker = '/tmp/rnnlinearization-pickle-ran'
        Remove-Item $marker -ErrorAction Ignore
        $err = { Import-RnnModel (Join-Path $script:RealFiles 'bad_runs_code.pt') -ErrorAction Stop } | Should -Throw -ErrorId 'PickleCallRefused,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match 'system'
        Test-Path $marker | Should -BeFalse
    }

    It 'calls a directory a directory' {
        { Import-RnnModel $script:RealFiles -ErrorAction Stop } | Should -Throw -ErrorId 'ModelPathIsDirectory,RnnLinearization.ImportRnnModelCommand'
    }

    It 'tells a leaky rate network loaded without -Architecture LeakyRnn what to give' {
        $path = Join-Path $script:Fixtures 'models/leaky_i3_h10_relu_dale.pt'
        $err = { Import-RnnModel $path -ErrorAction Stop } | Should -Throw -ErrorId 'LeakyRnnArchitectureRequired,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match '-Architecture LeakyRnn'
    }

    It 'loads a whole pickled module without its class, named as its state_dict() names it' {
        $m = Import-RnnModel (Join-Path $script:RealFiles 'bad_whole_module.pt') -Verbose 4>&1
        $notes = ($m | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
        $model = $m | Where-Object { $_ -is [RnnLinearization.Core.RnnModel] }
        $model.HiddenSize | Should -Be 3
        $model.OutputSize | Should -Be 1
        $notes | Should -Match 'whole pickled module'
        $notes | Should -Match "Readout: 'fc.weight'"
    }

    It 'takes the nonlinearity and layers from a pickled nn.RNN, and refuses a -Nonlinearity that contradicts it' {
        $path = Join-Path $script:RealFiles 'whole_module_rnn_relu_2layers.pt'
        $m = Import-RnnModel $path
        $m.Nonlinearity | Should -Be 'Relu'
        $m.NonlinearityAssumed | Should -BeFalse
        $m.NumLayers | Should -Be 2
        { Import-RnnModel $path -Nonlinearity Tanh -ErrorAction Stop } | Should -Throw -ErrorId 'NonlinearityMismatch,RnnLinearization.ImportRnnModelCommand'
    }

    It 'shows an assumed nonlinearity on the model''s default view' {
        $view = Import-RnnModel (Join-Path $script:RealFiles 'checkpoint_rnn.pt') | Out-String
        $view | Should -Match 'Tanh \(assumed\)'
        $view = Import-RnnModel (Join-Path $script:RealFiles 'checkpoint_rnn.pt') -Nonlinearity Tanh | Out-String
        $view | Should -Not -Match 'assumed'
    }

    It 'shows a leaky network''s Alpha on its default view, and claims no bias either way for a TorchScript cell' {
        $leaky = Import-RnnModel (Join-Path $script:Fixtures 'lyapunov/rate64.pt') -Architecture LeakyRnn -Alpha 0.1 -Nonlinearity Tanh
        ($leaky | Out-String) | Should -Match 'LeakyRnn \(alpha 0.1\)'
        $cell = Import-RnnModel (Join-Path $script:Fixtures 'lyapunov/circle.pt') -Architecture TorchScript -InputSize 1 -HiddenSize 2
        $cell.HasBias | Should -BeNullOrEmpty
        ($cell | Out-String) | Should -Not -Match 'False'
    }

    It 'loads mRNNTorch''s layout with its Dale signs and masks kept, and its excitatory and inhibitory units as regions' {
        $m = Import-RnnModel (Join-Path $script:RealFiles 'mrnn_elman.pth')
        $m.Architecture | Should -Be 'Rnn'
        $m.Regions.Keys | Sort-Object | Should -Be @('Excitatory', 'Inhibitory')
        $m.Regions['Excitatory'].Count + $m.Regions['Inhibitory'].Count | Should -Be $m.HiddenSize
        $sign = $m.Parameters['sign'].Data
        foreach ($u in $m.Regions['Inhibitory'].Start..($m.Regions['Inhibitory'].End - 1)) { $sign[$u] | Should -Be -1 }
        # Dale's law: every non-zero weight leaving an inhibitory unit (its column) is negative.
        $w = $m.Parameters['weight_hh_l0'].Data; $h = $m.HiddenSize
        foreach ($j in $m.Regions['Inhibitory'].Start..($m.Regions['Inhibitory'].End - 1)) { foreach ($i in 0..($h - 1)) { $w[$i * $h + $j] | Should -BeLessOrEqual 0 } }
        $m.Parameters['mask_hh'].Shape | Should -Be @($h, $h)
    }

    It 'reads -Readout as a full key or a bare parameter' {
        $path = Join-Path $script:RealFiles 'mante_leaky.pth'
        $map = @{ weight_hh = 'J.weight'; weight_ih = 'b_m', 'b_c', 'b_cm', 'b_cc'; bias = 'c_x' }
        $found = Import-RnnModel $path -Architecture LeakyRnn -Dt 0.001 -Tau 0.01 -ParameterMap $map
        foreach ($readout in 'W_out.weight', 'W_out') {
            $m = Import-RnnModel $path -Architecture LeakyRnn -Dt 0.001 -Tau 0.01 -ParameterMap $map -Readout $readout
            $m.OutputSize | Should -Be 1
            $m.Readout.Weight.Data | Should -Be $found.Readout.Weight.Data
            $m.Readout.Bias.Data | Should -Be $found.Readout.Bias.Data
        }
    }

    It 'says a bias -ParameterMap does not name is zero' {
        $path = Join-Path $script:RealFiles 'fused_xh_checkpoint.pt'
        $map = @{ weight_ih_l0 = 'model_state.core.affine.weight[:, 0:3]'; weight_hh_l0 = 'model_state.core.affine.weight[:, 3:8]'; bias_ih_l0 = 'model_state.core.affine.bias' }
        $out = Import-RnnModel $path -Architecture Rnn -Nonlinearity Relu -ParameterMap $map -Verbose 4>&1
        (($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n") | Should -Match "'bias_hh_l0' is not named, so it is zero"
        ($out | Where-Object { $_ -is [RnnLinearization.Core.RnnModel] }).Parameters['bias_hh_l0'].Data | Should -Be @(0, 0, 0, 0, 0)
    }

    It '-ParameterMap errors name the entry: <Case>' -ForEach @(
        @{ Case = 'a key the file lacks'; Map = @{ weight_ih_l0 = 'input_layer.weight'; weight_hh_l0 = 'hidden.weight' }; Id = 'InvalidParameterMap'; Pattern = "weight_hh_l0 = 'hidden.weight'.*no tensor 'hidden.weight'.*hidden_layer.weight" }
        @{ Case = 'a name the architecture lacks'; Map = @{ weight_ih_l0 = 'input_layer.weight'; W = 'hidden_layer.weight' }; Id = 'InvalidParameterMap'; Pattern = "names 'W'.*weight_ih_l0" }
        @{ Case = 'a shape that does not fit'; Map = @{ weight_ih_l0 = 'input_layer.weight'; weight_hh_l0 = 'hidden_layer.weight[:, 0:4]' }; Id = 'ParameterShapeMismatch'; Pattern = "weight_hh_l0' \(-ParameterMap weight_hh_l0 = 'hidden_layer.weight\[:, 0:4\]'\) has shape \[5, 4\]" }
        @{ Case = 'a transposed input weight'; Map = @{ weight_ih_l0 = 'readout_layer.weight'; weight_hh_l0 = 'hidden_layer.weight' }; Id = 'ParameterShapeMismatch'; Pattern = 'transposed\?' }
        @{ Case = 'a slice outside the tensor'; Map = @{ weight_ih_l0 = 'input_layer.weight[:, 7]'; weight_hh_l0 = 'hidden_layer.weight' }; Id = 'InvalidParameterMap'; Pattern = 'outside' }
        @{ Case = 'a slice past the tensor''s end (a typo, not clamped)'; Map = @{ weight_ih_l0 = 'input_layer.weight[:, 0:9]'; weight_hh_l0 = 'hidden_layer.weight' }; Id = 'InvalidParameterMap'; Pattern = 'runs past' }
        @{ Case = 'a negative index outside the tensor (NumPy refuses it; it is not clamped)'; Map = @{ weight_ih_l0 = 'input_layer.weight[:, -4]'; weight_hh_l0 = 'hidden_layer.weight' }; Id = 'InvalidParameterMap'; Pattern = 'outside' }
    ) {
        $err = { Import-RnnModel (Join-Path $script:RealFiles 'ctrnn_layers.pth') -Architecture Rnn -Nonlinearity Relu -ParameterMap $Map -ErrorAction Stop } |
            Should -Throw -ErrorId "$Id,RnnLinearization.ImportRnnModelCommand" -PassThru
        $err.Exception.Message | Should -Match $Pattern
    }

    It 'lists the keys it saw and points to -ParameterMap when no weights are found' {
        $err = { Import-RnnModel (Join-Path $script:RealFiles 'ctrnn_layers.pth') -ErrorAction Stop } | Should -Throw -ErrorId 'NoRecurrentWeights,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match 'input_layer.weight \[5, 3\]'
        $err.Exception.Message | Should -Match 'hidden_layer.weight \[5, 5\]'
        $err.Exception.Message | Should -Match 'weight_ih_l0'
        $err.Exception.Message | Should -Match '-ParameterMap'
    }

    It 'says which size does not match in a sentence' {
        $err = { Import-RnnModel (Join-Path $script:RealFiles 'grucell.pt') -HiddenSize 32 -ErrorAction Stop } | Should -Throw -ErrorId 'ModelSizeMismatch,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match 'hidden size 5, which does not match -HiddenSize 32\.'
        $err.Exception.Message | Should -Not -Match 'any'
    }

    It 'lists a file''s tensors, modules and values without building a model (Get-RnnFileContent)' {
        $rows = Get-RnnFileContent (Join-Path $script:RealFiles 'fused_xh_checkpoint.pt')
        $w = $rows | Where-Object Key -eq 'model_state.core.affine.weight'
        $w.Kind | Should -Be 'Tensor'
        $w.Shape | Should -Be '[5, 8]'
        $w.DType | Should -Be 'float32'
        ($rows | Where-Object Key -eq 'cfg.dt').Value | Should -Be '100'
        $modules = Get-RnnFileContent (Join-Path $script:RealFiles 'legacy_whole_module_lstm.pt') | Where-Object Kind -eq Module
        $modules.Value | Should -Contain 'torch.nn.modules.rnn.LSTM'
        $csv = Join-Path $TestDrive 'tensors.csv'
        Get-ChildItem (Join-Path $script:RealFiles '*.pth') | Get-RnnFileContent | Where-Object Kind -eq Tensor | Export-Csv $csv
        (Import-Csv $csv | Select-Object -ExpandProperty Path -Unique).Count | Should -Be @(Get-ChildItem (Join-Path $script:RealFiles '*.pth')).Count
    }

    It 'completes -Prefix and -Readout from the file''s keys' {
        $path = Join-Path $script:RealFiles 'checkpoint_two_rnns.pt'
        $line = "Import-RnnModel '$path' -Prefix "
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Sort-Object | Should -Be @('model_state_dict.decoder', 'model_state_dict.encoder')
        $path = Join-Path $script:RealFiles 'gpu_lstm_2layers_flat.pt'
        $line = "Import-RnnModel '$path' -Readout f"
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('fc')
    }

    It 'loads the other files when one of several piped paths cannot be loaded, and honours -ErrorAction' {
        $paths = 'gpu_gru_flat.pt', 'bad_truncated.pt', 'grucell.pt' | ForEach-Object { Join-Path $script:RealFiles $_ }
        $models = $paths | Import-RnnModel -ErrorAction SilentlyContinue -ErrorVariable failed
        $models.Count | Should -Be 2
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'UnreadableModelFile,RnnLinearization.ImportRnnModelCommand'
        @($paths | Import-RnnModel -ErrorAction Ignore).Count | Should -Be 2
    }

    It 'warns about a bias beside a mapped weight that the map leaves out, naming the entry to add' {
        $path = Join-Path $script:RealFiles 'ctrnn_layers.pth'
        $null = Import-RnnModel $path -Architecture Rnn -Nonlinearity Relu -ParameterMap @{ weight_ih_l0 = 'input_layer.weight'; weight_hh_l0 = 'hidden_layer.weight' } -WarningVariable w -WarningAction SilentlyContinue
        @($w).Count | Should -Be 2
        ($w -join "`n") | Should -Match "bias_ih_l0 = 'input_layer.bias'"
        ($w -join "`n") | Should -Match "bias_hh_l0 = 'hidden_layer.bias'"
    }

    It 'suggests a -ParameterMap built from the file''s own keys when no weights are found' {
        $err = { Import-RnnModel (Join-Path $script:RealFiles 'ctrnn_layers.pth') -ErrorAction Stop } | Should -Throw -PassThru
        $err.Exception.Message | Should -Match "-ParameterMap @\{ weight_ih_l0 = 'input_layer.weight'; weight_hh_l0 = 'hidden_layer.weight'; bias_ih_l0 = 'input_layer.bias'; bias_hh_l0 = 'hidden_layer.bias' \}"
        $err.Exception.Message | Should -Match '-Nonlinearity'
    }

    It 'says an nn.RNN file is not a leaky network, and that a network''s own weight or a bias is not a readout' {
        $path = Join-Path $script:RealFiles 'gpu_lstm_2layers_flat.pt'
        { Import-RnnModel $path -Architecture LeakyRnn -Alpha 0.5 -ErrorAction Stop } | Should -Throw -ErrorId 'ArchitectureMismatch,RnnLinearization.ImportRnnModelCommand'
        $err = { Import-RnnModel $path -Readout rnn.weight_hh_l0 -ErrorAction Stop } | Should -Throw -ErrorId 'ReadoutNotFound,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match "own weights"
        $err = { Import-RnnModel $path -Readout fc.bias -ErrorAction Stop } | Should -Throw -ErrorId 'ReadoutNotFound,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match '-Readout fc'
    }
}
