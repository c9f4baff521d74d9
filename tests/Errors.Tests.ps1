BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $m = Get-FixtureModel 'rnn_i3_h7_tanh'
    $good = 1..7 | ForEach-Object { 0.1 * $_ }

    # Runs a command; returns its output and its errors, terminating or not, without stopping the test.
    function Invoke-Captured([scriptblock] $Command) {
        $ErrorActionPreference = 'Continue'
        $errs = [Collections.Generic.List[object]]::new()
        $out = try {
            & $Command 2>&1 | ForEach-Object { if ($_ -is [Management.Automation.ErrorRecord]) { $errs.Add($_) } else { $_ } }
        }
        catch { $errs.Add($_) }
        [pscustomobject]@{ Output = @($out); Errors = @($errs) }
    }
}

Describe 'Model files that cannot be used' {
    It '<Case> is refused with <Id> (<Category>)' -ForEach @(
        @{ Case = 'a missing file'; File = 'no_such_model.pt'; Id = 'ModelFileNotFound'; Category = 'ObjectNotFound' }
        @{ Case = 'a state_dict with no RNN keys'; File = 'bad_no_rnn_keys.pt'; Id = 'NoRecurrentWeights'; Category = 'InvalidData' }
        @{ Case = 'a file that is no model'; File = 'bad_not_a_model.pt'; Id = 'UnknownModelFormat'; Category = 'InvalidData' }
        @{ Case = 'a bidirectional RNN'; File = 'bad_bidirectional.pt'; Id = 'BidirectionalNotSupported'; Category = 'NotImplemented' }
    ) {
        $path = Join-Path $script:Fixtures "models/$File"
        $r = Invoke-Captured { Import-RnnModel $path }
        $r.Output.Count | Should -Be 0
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $r.Errors[0].CategoryInfo.Category | Should -Be $Category
        $r.Errors[0].Exception.Message | Should -Not -BeNullOrEmpty
    }

    It 'refuses a damaged zip with UnreadableModelFile' {
        $path = Join-Path $TestDrive 'damaged.pt'
        [IO.File]::WriteAllBytes($path, [byte[]](0x50, 0x4B, 3, 4) + [byte[]](1..200))
        $r = Invoke-Captured { Import-RnnModel $path }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'UnreadableModelFile,*'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'refuses a prefix that is not in the state_dict and a wrong architecture' {
        $path = Join-Path $script:Fixtures 'models/prefixed_rnn_i3_h7_tanh.pt'
        (Invoke-Captured { Import-RnnModel $path -Prefix encoder }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'PrefixNotFound,*'
        (Invoke-Captured { Import-RnnModel $path -Architecture Gru }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'ArchitectureMismatch,*'
        (Invoke-Captured { Import-RnnModel $path -Architecture Lstm }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'ArchitectureMismatch,*'
        (Invoke-Captured { Import-RnnModel $path -Architecture TorchScript -InputSize 3 -HiddenSize 7 }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'NotTorchScript,*'
        (Invoke-Captured { Import-RnnModel $path -HiddenSize 8 }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'ModelSizeMismatch,*'
        (Invoke-Captured { Import-RnnModel $path -Architecture LeakyRnn }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidAlpha,*'
        (Invoke-Captured { Import-RnnModel $path -Nonlinearity Softplus }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'NonlinearityNotSupported,*'
    }

    It 'refuses a TorchScript cell <Case> with <Id> (<Category>), and pwsh lives on' -ForEach @(
        @{ Case = 'without its sizes'; File = 'script_lowrank_i3_h6.pt'; Sizes = @{ Architecture = 'TorchScript'; InputSize = 3 }; Id = 'ScriptSizeRequired'; Category = 'InvalidArgument' }
        @{ Case = 'given the wrong input size'; File = 'script_lowrank_i3_h6.pt'; Sizes = @{ Architecture = 'TorchScript'; InputSize = 2; HiddenSize = 6 }; Id = 'ScriptForwardFailed'; Category = 'InvalidData' }
        @{ Case = 'given the wrong state size'; File = 'script_lowrank_i3_h6.pt'; Sizes = @{ Architecture = 'TorchScript'; InputSize = 3; HiddenSize = 5 }; Id = 'ScriptForwardFailed'; Category = 'InvalidData' }
        @{ Case = 'whose forward takes one argument'; File = 'bad_script_one_argument.pt'; Sizes = @{ Architecture = 'TorchScript'; InputSize = 3; HiddenSize = 3 }; Id = 'ScriptForwardFailed'; Category = 'InvalidData' }
        @{ Case = 'whose forward returns the wrong shape'; File = 'bad_script_wrong_shape.pt'; Sizes = @{ Architecture = 'TorchScript'; InputSize = 2; HiddenSize = 4 }; Id = 'ScriptOutputShape'; Category = 'InvalidData' }
        @{ Case = 'as another architecture'; File = 'script_lowrank_i3_h6.pt'; Sizes = @{ Architecture = 'Gru' }; Id = 'TorchScriptNotRequested'; Category = 'InvalidData' }
        @{ Case = 'without -Architecture TorchScript (its code would run)'; File = 'script_lowrank_i3_h6.pt'; Sizes = @{ InputSize = 3; HiddenSize = 6 }; Id = 'TorchScriptNotRequested'; Category = 'InvalidData' }
    ) {
        $path = Join-Path $script:Fixtures "models/$File"
        $r = Invoke-Captured { Import-RnnModel $path @Sizes }
        $r.Output.Count | Should -Be 0
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $r.Errors[0].CategoryInfo.Category | Should -Be $Category
        $r.Errors[0].Exception.Message | Should -Not -Match 'frame #|Exception raised from'
        (Import-RnnModel $path.Replace($File, 'script_lowrank_i3_h6.pt') -Architecture TorchScript -InputSize 3 -HiddenSize 6).StateSize | Should -Be 6
    }

    It 'shows what TorchScript said when a whole model''s forward takes only the input, and what to export instead' {
        $r = Invoke-Captured { Import-RnnModel (Join-Path $script:Fixtures 'models/bad_script_one_argument.pt') -Architecture TorchScript -InputSize 3 -HiddenSize 3 }
        $r.Errors[0].Exception.Message | Should -Match "Expected at most 2 argument\(s\) for operator 'forward'"
        $r.Errors[0].Exception.Message | Should -Match 'forward\(input, h\)'
        $r.Errors[0].Exception.Message | Should -Match 'state_dict'
    }

    It 'refuses to export a TorchScript cell and to make one' {
        $s = Import-RnnModel (Join-Path $script:Fixtures 'models/script_lowrank_i3_h6.pt') -Architecture TorchScript -InputSize 3 -HiddenSize 6
        (Invoke-Captured { Export-RnnModel -Model $s -Path (Join-Path $TestDrive 's.safetensors') }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'ExportNotSupported,*'
        { New-RnnModel -Architecture TorchScript -InputSize 1 -HiddenSize 2 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'does not offer TorchScript when -Architecture of New-RnnModel is completed' {
        $line = 'New-RnnModel -Architecture '
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $offered | Should -Contain 'Lstm'
        $offered | Should -Not -Contain 'TorchScript'
        $line = 'Import-RnnModel -Architecture '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'TorchScript'
    }

    It 'refuses to overwrite with -NoClobber' {
        $path = Join-Path $TestDrive 'exists.safetensors'
        Set-Content $path 'x'
        (Invoke-Captured { Export-RnnModel -Model $m -Path $path -NoClobber }).Errors[0].FullyQualifiedErrorId | Should -BeLike 'ModelFileExists,*'
        Get-Content $path | Should -Be 'x'
    }
}

Describe 'Bad states in a stream' {
    It '<Case> gives <Id> (<Category>) for that item and the stream goes on' -ForEach @(
        @{ Case = 'a state of the wrong length'; Bad = @{ State = @(1.0, 2.0) }; Id = 'StateLengthMismatch'; Category = 'InvalidArgument' }
        @{ Case = 'an input of the wrong length'; Bad = @{ State = @(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7); Input = @(1.0) }; Id = 'InputLengthMismatch'; Category = 'InvalidArgument' }
        @{ Case = 'a NaN in the state'; Bad = @{ State = @(0.1, [double]::NaN, 0.3, 0.4, 0.5, 0.6, 0.7) }; Id = 'NonFiniteValue'; Category = 'InvalidData' }
        @{ Case = 'an infinite input'; Bad = @{ State = @(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7); Input = @(0, [double]::PositiveInfinity, 0) }; Id = 'NonFiniteValue'; Category = 'InvalidData' }
    ) {
        foreach ($cmd in 'Get-RnnJacobian', 'Get-RnnEigen', 'Invoke-RnnLinearization') {
            $extra = if ($cmd -eq 'Invoke-RnnLinearization') { @{ DeltaState = @(, [double[]](1..7)) } } else { @{} }
            $stream = @([pscustomobject]@{ State = $good; Index = 0 }, [pscustomobject]($Bad + @{ Index = 1 }), [pscustomobject]@{ State = $good; Index = 2 })
            $r = Invoke-Captured { $stream | & $cmd -Model $m @extra }
            $r.Errors.Count | Should -Be 1 -Because $cmd
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
            $r.Errors[0].CategoryInfo.Category | Should -Be $Category
            $r.Errors[0].Exception.Message | Should -BeLike 'State 1:*'
            @($r.Output.Index | Select-Object -Unique) | Should -Be @(0, 2) -Because "$cmd goes on after the bad item"
        }
    }

    It 'reports a bad RnnState (bound whole from the pipeline) for that item and goes on' {
        $stream = [RnnLinearization.RnnState]@{ Index = 7; State = $good }, [RnnLinearization.RnnState]@{ Index = 8; State = [double[]](1, 2) },
            [RnnLinearization.RnnState]@{ Index = 9; State = $good; Input = [double[]](0.1, 0.2, 0.3) }
        foreach ($cmd in 'Get-RnnJacobian', 'Get-RnnEigen') {
            $r = Invoke-Captured { $stream | & $cmd -Model $m }
            $r.Errors.Count | Should -Be 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'StateLengthMismatch,*'
            $r.Errors[0].Exception.Message | Should -BeLike 'State 8:*'
            $r.Output.Index | Should -Be @(7, 9)
            $r.Output[1].Input | Should -Be @(0.1, 0.2, 0.3)
        }
    }

    It 'refuses DeltaState rows of the wrong length before any work' {
        $r = Invoke-Captured { Invoke-RnnLinearization -Model $m -State $good -DeltaState @(, [double[]](1, 2, 3)) }
        $r.Output.Count | Should -Be 0
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'DeltaStateLengthMismatch,*'
        $r.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $r = Invoke-Captured { Invoke-RnnLinearization -Model $m -State $good -DeltaState @(, $good) -DeltaInput 1, 2 }
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'DeltaInputLengthMismatch,*'
    }

    It 'takes a flat DeltaState of StateSize numbers as one perturbation' {
        $steps = @(Invoke-RnnLinearization -Model $m -State $good -DeltaState $good)
        $steps.Count | Should -Be 1
        $steps[0].DeltaState | Should -Be $good
    }

    It 'refuses a non-square Jacobian piped into Get-RnnEigen and goes on' {
        $okJ = Get-RnnJacobian -Model $m -State $good
        $bad = [RnnLinearization.RnnJacobian]@{ Index = 5; StateJacobian = [double[][]]@([double[]](1, 2), [double[]](3)) }
        $r = Invoke-Captured { $okJ, $bad, $okJ | Get-RnnEigen }
        $r.Errors.Count | Should -Be 1
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'JacobianNotSquare,*'
        $r.Output.Count | Should -Be 2
    }

    It 'refuses a trajectory input of the wrong length' {
        $r = Invoke-Captured { Get-RnnTrajectory -Model $m -InputSequence @(@(1, 0, 0), @(1, 0)) }
        $r.Output.Count | Should -Be 0
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InputLengthMismatch,*'
    }
}

Describe 'State files that cannot be read' {
    It '<File> gives <Id> (<Category>)' -ForEach @(
        @{ File = 'missing.npy'; Id = 'StateFileNotFound'; Category = 'ObjectNotFound' }
        @{ File = 'bad_fortran.npy'; Id = 'InvalidStateFile'; Category = 'InvalidData' }
        @{ File = 'bad_int.npy'; Id = 'InvalidStateFile'; Category = 'InvalidData' }
        @{ File = 'expected.txt'; Id = 'UnknownStateFormat'; Category = 'InvalidArgument' }
    ) {
        $path = Join-Path $script:Fixtures "states/$File"
        if ($File -eq 'expected.txt') { $path = Join-Path $TestDrive $File; Set-Content $path '1,2' }
        $r = Invoke-Captured { Import-RnnState $path }
        $r.Output.Count | Should -Be 0
        $r.Errors[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $r.Errors[0].CategoryInfo.Category | Should -Be $Category
    }

    It 'goes on to the next file after a bad one' {
        $paths = (Join-Path $script:Fixtures 'states/missing.npy'), (Join-Path $script:Fixtures 'states/states_f64.npy')
        $r = Invoke-Captured { Import-RnnState $paths }
        $r.Errors.Count | Should -Be 1
        $r.Output.Count | Should -Be 4
    }
}

Describe 'Mistakes a new user makes, named' {
    It 'refuses -Alpha for a network that is not leaky (AlphaNotApplicable), as Import-RnnModel does' {
        { New-RnnModel -InputSize 3 -HiddenSize 4 -Alpha 0.5 -ErrorAction Stop } | Should -Throw -ErrorId 'AlphaNotApplicable,RnnLinearization.NewRnnModelCommand'
    }

    It 'says how PowerShell split a flat list given as one perturbation or as a sequence' {
        $m = New-RnnModel -InputSize 3 -HiddenSize 4 -Seed 1
        { Invoke-RnnLinearization -Model $m -State 0, 0, 0, 0 -DeltaState 1, 2, 3 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*each of the 3 numbers given one row*'
        { Get-RnnTrajectory -Model $m -InputSequence 1, 0, 0 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*each of the 3 numbers given one step*'
    }

    It 'suggests -Architecture LeakyRnn when -ParameterMap names a leaky network''s parameter' {
        # The Mante network of the help's examples, a hand-written leaky network, mapped without -Architecture LeakyRnn.
        $file = Join-Path $script:Fixtures 'realfiles/mante_leaky.pth'
        { Import-RnnModel $file -ParameterMap @{ weight_hh = 'J.weight'; weight_ih = 'b_m', 'b_c', 'b_cm', 'b_cc'; bias = 'c_x' } -ErrorAction Stop } |
            Should -Throw -ExpectedMessage "*is a leaky rate network's: give -Architecture LeakyRnn*"
    }
}
