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
        @{ Case = 'a whole pickled module'; File = 'bad_whole_module.pt'; Id = 'PickledModule'; Pattern = 'state_dict\(\)' }
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
}
