# Options are never silently ignored or assumed; messages name the fix; output order and views under real use.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    function Get-Error([scriptblock] $Command) {
        try { & $Command | Out-Null; $null } catch { $_ }
    }
}

Describe 'Options that do not apply are refused, not ignored' {
    It 'refuses <Case> with <Id>' -ForEach @(
        @{ Case = '-Alpha on a GRU file'; Id = 'AlphaNotApplicable'; Command = { Import-RnnModel (Join-Path $script:Fixtures 'models/gru_i3_h7.pt') -Alpha 0.1 -ErrorAction Stop } }
        @{ Case = '-Nonlinearity Relu on a GRU file'; Id = 'NonlinearityNotApplicable'; Command = { Import-RnnModel (Join-Path $script:Fixtures 'models/gru_i3_h7.pt') -Nonlinearity Relu -ErrorAction Stop } }
        @{ Case = '-Nonlinearity Relu for a new LSTM'; Id = 'NonlinearityNotApplicable'; Command = { New-RnnModel -InputSize 1 -HiddenSize 2 -Architecture Lstm -Nonlinearity Relu -ErrorAction Stop } }
        @{ Case = '-Nonlinearity on a TorchScript cell'; Id = 'NonlinearityNotApplicable'; Command = { Import-RnnModel (Join-Path $script:Fixtures 'models/script_lowrank_i3_h6.pt') -Architecture TorchScript -InputSize 3 -HiddenSize 6 -Nonlinearity Relu -ErrorAction Stop } }
        @{ Case = '-Alpha with -Dt and -Tau'; Id = 'ConflictingParameters'; Command = { Import-RnnModel (Join-Path $script:Fixtures 'models/leaky_i2_h4_linear.pt') -Architecture LeakyRnn -Alpha 0.1 -Dt 1 -Tau 10 -ErrorAction Stop } }
        @{ Case = '-Tau without -Dt'; Id = 'ConflictingParameters'; Command = { Import-RnnModel (Join-Path $script:Fixtures 'models/leaky_i2_h4_linear.pt') -Architecture LeakyRnn -Tau 10 -ErrorAction Stop } }
        @{ Case = '-Dt of 0'; Id = 'InvalidDt'; Command = { Import-RnnModel (Join-Path $script:Fixtures 'models/leaky_i2_h4_linear.pt') -Architecture LeakyRnn -Alpha 0.1 -Dt 0 -ErrorAction Stop } }
    ) {
        $e = Get-Error $Command
        $e | Should -Not -BeNullOrEmpty
        $e.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'does not write safetensors under a .pt name' {
        $path = Join-Path $TestDrive 'model.pt'
        $e = Get-Error { New-RnnModel -InputSize 1 -HiddenSize 2 -Seed 1 | Export-RnnModel -Path $path -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'ExportExtension,*'
        $e.Exception.Message | Should -Match '\.safetensors'
        Test-Path $path | Should -BeFalse
    }

    It 'warns about more threads than cores' {
        $before = (Get-RnnConfiguration).ThreadCount
        try {
            Set-RnnConfiguration -ThreadCount ([Environment]::ProcessorCount + 1) -WarningVariable w -WarningAction SilentlyContinue
            $w[0].Message | Should -Match 'cores'
        }
        finally { Set-RnnConfiguration -ThreadCount $before }
    }

    It 'says which nonlinearity it assumed, on the model and in the verbose stream' {
        $m = Import-RnnModel (Join-Path $script:Fixtures 'models/rnn_i3_h7_relu.pt') -Verbose 4>&1
        (($m | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n") | Should -Match 'Tanh assumed'
        (($m | Where-Object { $_ -is [RnnLinearization.Core.RnnModel] }).LoadNotes -join "`n") | Should -Match 'Tanh assumed'
        (Import-RnnModel (Join-Path $script:Fixtures 'models/rnn_i3_h7_relu.pt') -Nonlinearity Relu).LoadNotes | Should -Not -Match 'assumed'
    }
}

Describe 'Messages that name the fix' {
    It 'tells an LSTM user who gives only h that the state is [h; c]' {
        $m = New-RnnModel -InputSize 2 -HiddenSize 3 -Architecture Lstm -Seed 1
        $e = Get-Error { Get-RnnJacobian -Model $m -State 0.1, 0.2, 0.3 -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'StateLengthMismatch,*'
        $e.Exception.Message | Should -Match '\[h; c\]'
        $e.Exception.Message | Should -Match 'c_l0'
    }
}

Describe 'Output under errors and in views' {
    It 'writes the results of good states before the error of a bad one, under -ErrorAction Stop' {
        $m = New-RnnModel -InputSize 1 -HiddenSize 2 -Seed 1
        $states = @([double[]](0.1, 0.2), [double[]](0.3, 0.4), [double[]](1, 2, 3)) | ForEach-Object { [RnnLinearization.RnnState]@{ State = $_ } }
        $seen = [System.Collections.Generic.List[object]]::new()
        $e = Get-Error { $states | Get-RnnJacobian -Model $m -ErrorAction Stop | ForEach-Object { $seen.Add($_) } }
        $e.FullyQualifiedErrorId | Should -BeLike 'StateLengthMismatch,*'
        $seen.Count | Should -Be 2
        $seen[1].State | Should -Be @(0.3, 0.4)
    }

    It 'keeps list views short at hidden 64 and shows small numbers as they are' {
        $m = New-RnnModel -InputSize 3 -HiddenSize 64 -Seed 1
        $h = 1..64 | ForEach-Object { 0.01 * $_ }
        $lines = (Get-RnnEigen -Model $m -State $h | Format-List | Out-String).Split("`n")
        $lines.Count | Should -BeLessThan 25
        ($lines -join "`n") | Should -Match 'Eigenvectors\s+: 64 vectors of 64'
        $step = Invoke-RnnLinearization -Model $m -State $h -DeltaState (, [double[]](1..64 | ForEach-Object { 1e-5 })) -Exact | Format-List | Out-String
        $step | Should -Match 'DeltaState\s+: \[1e-5'
        $step | Should -Match 'ErrorNorm\s+: \d\.\d{3}e-\d+'
    }
}

Describe 'Binding and completion' {
    It 'takes a path for -Model and loads it, with a clear error when it cannot' {
        Push-Location (Join-Path $PSScriptRoot '../examples')
        try {
            $j = Get-RnnJacobian -Model ./flipflop_rnn.pt -State (1..24 | ForEach-Object { 0.01 * $_ })
            $direct = Get-RnnJacobian -Model (Import-RnnModel ./flipflop_rnn.pt) -State (1..24 | ForEach-Object { 0.01 * $_ })
            $j.StateJacobian[3] | Should -Be $direct.StateJacobian[3]
            (Get-Item ./flipflop_rnn.pt | ForEach-Object { Get-RnnTrajectory -Model $_ -InputSequence @(, [double[]](1, 0, 0)) }).NextState.Count | Should -Be 24
            $e = Get-Error { Get-RnnJacobian -Model ./no_such_model.pt -State 0 -ErrorAction Stop }
            $e.Exception.Message | Should -Match 'ModelFileNotFound'
        }
        finally { Pop-Location }
    }

    It 'completes -Region with the model''s region names' {
        $m = Import-RnnModel (Join-Path $script:Fixtures 'models/leaky_i3_h10_relu_dale.pt') -Architecture LeakyRnn -Alpha 0.1 `
            -RegionMap (Join-Path $script:Fixtures 'models/leaky_i3_h10_relu_dale.regions.json')
        $script = 'Get-RnnEigen -Model $m -Region '
        $names = (TabExpansion2 -inputScript $script -cursorColumn $script.Length).CompletionMatches.CompletionText
        $names | Should -Be ($m.Regions.Keys | Sort-Object)
        $script = 'Get-RnnJacobian -Model $m -Region '
        (TabExpansion2 -inputScript $script -cursorColumn $script.Length).CompletionMatches.CompletionText | Should -Be ($m.Regions.Keys | Sort-Object)
    }
}
