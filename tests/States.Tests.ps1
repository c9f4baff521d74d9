# State files in and out: inputs per state, indices, round trips, and whole-file errors.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:RealFiles = Join-Path $script:Fixtures 'realfiles'
    $script:Expected = Get-Content (Join-Path $script:RealFiles 'expected_states.json') -Raw | ConvertFrom-Json
}

Describe 'Import-RnnState reads inputs, indices and paths' {
    It 'reads <File> as numpy or the header wrote it' -ForEach @(
        @{ File = 'states_inputs.npz'; Index = 0..3 }
        @{ File = 'states_inputs.csv'; Index = 10..13 }) {
        $path = Join-Path $script:RealFiles $File
        $rows = Import-RnnState $path
        $rows.Count | Should -Be 4
        for ($k = 0; $k -lt 4; $k++) {
            $rows[$k].State | Should -Be $script:Expected.states[$k]
            $rows[$k].Input | Should -Be $script:Expected.inputs[$k]
            $rows[$k].Index | Should -Be $Index[$k]
            $rows[$k].Path | Should -Be (Resolve-Path $path).Path
        }
    }

    It 'reads a single JSON object as one state' {
        $row = Import-RnnState (Join-Path $script:RealFiles 'state_one.json')
        @($row).Count | Should -Be 1
        $row.Index | Should -Be 7
        $row.State | Should -Be $script:Expected.states[0]
        $row.Input | Should -Be $script:Expected.inputs[0]
    }

    It 'says so for an empty file' {
        { Import-RnnState (Join-Path $script:RealFiles 'states_empty.csv') -ErrorAction Stop } | Should -Throw -ErrorId 'EmptyStateFile,RnnLinearization.ImportRnnStateCommand'
    }

    It 'stops <Command> with the one StateFileWidthMismatch a file of the wrong width gives, not an error per row' -ForEach @(
        @{ Command = 'Find-RnnFixedPoint' }, @{ Command = 'Get-RnnFlowField' }) {
        $m = New-RnnModel -InputSize 2 -HiddenSize 3 -Seed 1
        $path = Join-Path $script:RealFiles 'states_index_no_header.csv'
        $ErrorActionPreference = 'Continue'
        $errors = @(try { Import-RnnState $path | & $Command -Model $m 2>&1 | Where-Object { $_ -is [Management.Automation.ErrorRecord] } } catch { $_ })
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'StateFileWidthMismatch,*'
        $errors[0].Exception.Message | Should -Match 'states_index_no_header\.csv.*4 values.*has 3.*index'
    }

    It 'names a likely cause even when no column explains the width' {
        $m = New-RnnModel -InputSize 2 -HiddenSize 9 -Seed 1
        $err = $null
        try { Import-RnnState (Join-Path $script:RealFiles 'states_index_no_header.csv') | Get-RnnJacobian -Model $m | Out-Null } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'StateFileWidthMismatch,*'
        $err.Exception.Message | Should -Match 'another model'
    }

    It 'stops with one error naming the file, both widths and the likely cause when a file does not fit the model' {
        $m = New-RnnModel -InputSize 2 -HiddenSize 3 -Seed 1
        $path = Join-Path $script:RealFiles 'states_index_no_header.csv'
        $out = [System.Collections.Generic.List[object]]::new()
        $err = $null
        try { Import-RnnState $path | Get-RnnJacobian -Model $m | ForEach-Object { $out.Add($_) } } catch { $err = $_ }
        $out.Count | Should -Be 0
        $err.FullyQualifiedErrorId | Should -BeLike 'StateFileWidthMismatch,*'
        $err.Exception.Message | Should -Match 'states_index_no_header\.csv'
        $err.Exception.Message | Should -Match '4 values.*has 3'
        $err.Exception.Message | Should -Match 'index'
        # The same file with inputs in the model's shape goes through, each row at its own input.
        $j = Import-RnnState (Join-Path $script:RealFiles 'states_inputs.csv') | Get-RnnJacobian -Model $m
        $j.Count | Should -Be 4
        $j[2].Input | Should -Be $script:Expected.inputs[2]
        $j[2].Index | Should -Be 12
    }
}

Describe 'State files as people write them' {
    It 'reads back the States of an Export-RnnResult file, with their Index and Input' {
        $m = New-RnnModel -InputSize 2 -HiddenSize 4 -Seed 2
        $traj = Get-RnnTrajectory -Model $m -InputSequence ([double[][]]@(@(0.1, 0.2), @(0.3, -0.1), @(0, 0.5)))
        $file = Join-Path $TestDrive 'traj.npz'
        $traj | Export-RnnResult $file -WarningAction SilentlyContinue
        $back = @(Import-RnnState $file)
        $back.Count | Should -Be 3
        for ($k = 0; $k -lt 3; $k++) {
            $back[$k].State | Should -Be $traj[$k].State
            $back[$k].Input | Should -Be $traj[$k].Input
            $back[$k].Index | Should -Be $traj[$k].Index
        }
    }

    It 'reads the header np.savetxt writes ("# index,h0,h1")' {
        $file = Join-Path $TestDrive 'savetxt.csv'
        Set-Content $file "# index,h0,h1`n7,0.5,-0.25`n8,1,2"
        $rows = @(Import-RnnState $file)
        $rows.Index | Should -Be @(7, 8)
        $rows[0].State | Should -Be @(0.5, -0.25)
    }

    It 'says which columns were taken as inputs when a header leaves no state column' {
        $file = Join-Path $TestDrive 'xcolumns.csv'
        Set-Content $file "x0,x1,x2`n1,2,3"
        { Import-RnnState $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidStateFile*' -ExpectedMessage '*names no state column*h0, h1*'
    }

    It 'names a leaky network''s state h, as every state (x0, x1, ... name inputs in state files)' {
        (New-RnnModel -Architecture LeakyRnn -Alpha 0.5 -InputSize 1 -HiddenSize 5 -Seed 1).StateLayout | Should -Be 'h [0, 5)'
    }

    It 'refuses bare values in Export-RnnResult (NotAResult)' {
        $errs = $null
        # Each bare value is refused; with nothing left to write, the command then ends with NoResultsToWrite.
        { 'a', 'b' | Export-RnnResult (Join-Path $TestDrive 'strings.npz') -ErrorVariable script:errs -ErrorAction SilentlyContinue } | Should -Throw -ErrorId 'NoResultsToWrite*'
        $script:errs[0].FullyQualifiedErrorId | Should -Be 'NotAResult,RnnLinearization.ExportRnnResultCommand'
        Test-Path (Join-Path $TestDrive 'strings.npz') | Should -BeFalse
    }
}

Describe 'Export-RnnState writes what Import-RnnState reads, exactly' {
    BeforeAll {
        $m = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $inputs = foreach ($t in 0..19) { , [double[]]@(([math]::Sin($t) / 3), 0.1, (-1 / 3)) }
        $traj = Get-RnnTrajectory -Model $m -InputSequence $inputs
    }

    It 'round-trips states, inputs and indices through <Extension>' -ForEach @(@{ Extension = '.csv' }, @{ Extension = '.json' }, @{ Extension = '.npz' }) {
        $path = Join-Path $TestDrive "steps$Extension"
        $file = $traj | Export-RnnState $path -PassThru
        $file.Length | Should -BeGreaterThan 0
        $back = Import-RnnState $path
        $back.Count | Should -Be $traj.Count
        for ($k = 0; $k -lt $traj.Count; $k++) {
            $back[$k].State | Should -Be $traj[$k].State
            $back[$k].Input | Should -Be $traj[$k].Input
            $back[$k].Index | Should -Be $traj[$k].Index
        }
    }

    It 'writes the states alone to .npy, and says so' {
        $path = Join-Path $TestDrive 'steps.npy'
        $traj | Export-RnnState $path -WarningVariable w -WarningAction SilentlyContinue
        $w[0].Message | Should -Match 'states alone'
        $back = Import-RnnState $path
        for ($k = 0; $k -lt $traj.Count; $k++) { $back[$k].State | Should -Be $traj[$k].State }
        $back[0].Input | Should -BeNullOrEmpty
    }

    It 'refuses states of different lengths and an existing file with -NoClobber' {
        $path = Join-Path $TestDrive 'mixed.csv'
        { @([pscustomobject]@{ State = [double[]](1, 2) }, [pscustomobject]@{ State = [double[]](1, 2, 3) }) | Export-RnnState $path -ErrorAction Stop } |
            Should -Throw -ErrorId 'StateLengthMismatch,RnnLinearization.ExportRnnStateCommand'
        Set-Content $path 'x'
        { $traj | Export-RnnState $path -NoClobber -ErrorAction Stop } | Should -Throw -ErrorId 'StateFileExists,RnnLinearization.ExportRnnStateCommand'
        Get-Content $path | Should -Be 'x'
    }
}

Describe 'Export-RnnResult writes arrays numpy reads' {
    BeforeAll {
        $m = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $inputs = foreach ($t in 0..11) { , [double[]]@(([math]::Cos($t) / 2), 0, 0.25) }
        $traj = Get-RnnTrajectory -Model $m -InputSequence $inputs
        $script:Python = if (Test-Path /usr/bin/python3) { & /usr/bin/python3 -c 'import numpy' 2>$null; $LASTEXITCODE -eq 0 } else { $false }
        function Read-Npz([string] $Path, [string] $Code) {
            # numpy itself, as a user reads the file (build.ps1 -Task Test installs python3-numpy).
            $out = & /usr/bin/python3 -c "import numpy, json, sys; d = numpy.load(sys.argv[1]); $Code" $Path
            $LASTEXITCODE | Should -Be 0
            $out | ConvertFrom-Json
        }
    }

    It 'stacks Jacobians, inputs and indices along the stream' {
        $script:Python | Should -BeTrue -Because 'python3-numpy is installed by the Test task'
        $path = Join-Path $TestDrive 'jac.npz'
        $j = $traj | Get-RnnJacobian -Model $m
        $file = $j | Export-RnnResult $path -PassThru
        $file.Name | Should -Be 'jac.npz'
        $r = Read-Npz $path 'print(json.dumps({k: {"shape": list(d[k].shape), "dtype": str(d[k].dtype)} for k in d.files} | {"J": d["StateJacobian"].tolist(), "X": d["InputJacobian"][3].tolist(), "I": d["Index"].tolist(), "N": d["NextState"][5].tolist()}))'
        $r.StateJacobian.shape | Should -Be @(12, 24, 24)
        $r.StateJacobian.dtype | Should -Be 'float64'
        $r.Index.dtype | Should -Be 'int64'
        $r.I | Should -Be (0..11)
        for ($k = 0; $k -lt 12; $k++) { for ($i = 0; $i -lt 24; $i++) { $r.J[$k][$i] | Should -Be $j[$k].StateJacobian[$i] } }
        for ($i = 0; $i -lt 24; $i++) { $r.X[$i] | Should -Be $j[3].InputJacobian[$i] }
        $r.N | Should -Be $j[5].NextState
    }

    It 'writes eigenvalues and eigenvectors as complex128, V with the vectors as columns' {
        $path = Join-Path $TestDrive 'eig.npz'
        $e = $traj | Get-RnnEigen -Model $m
        $e | Export-RnnResult $path
        $r = Read-Npz $path 'V = d["Eigenvectors"][2]; L = d["Eigenvalues"][2]; print(json.dumps({"dtype": str(d["Eigenvalues"].dtype), "shape": list(d["Eigenvectors"].shape), "re": L.real.tolist(), "im": L.imag.tolist(), "col": [V[:, 1].real.tolist(), V[:, 1].imag.tolist()], "stable": d["IsStable"].tolist()}))'
        $r.dtype | Should -Be 'complex128'
        $r.shape | Should -Be @(12, 24, 24)
        $r.re | Should -Be $e[2].Real
        $r.im | Should -Be $e[2].Imaginary
        $r.col[0] | Should -Be ($e[2].Eigenvectors[1] | ForEach-Object Real)
        $r.col[1] | Should -Be ($e[2].Eigenvectors[1] | ForEach-Object Imaginary)
        $r.stable | Should -Be $e.IsStable
    }

    It 'writes fixed points with their kinds as text, and drops what some results lack' {
        $path = Join-Path $TestDrive 'fixed.npz'
        $fps = $traj | Find-RnnFixedPoint -Model $m -Count 64 -Noise 0.5 -Seed 3
        $fps | Export-RnnResult $path -WarningVariable w -WarningAction SilentlyContinue
        $r = Read-Npz $path 'print(json.dumps({"kind": d["Kind"].tolist(), "q": d["Q"].tolist(), "out": d["Output"].shape[1], "files": d.files}))'
        $r.kind | Should -Be ($fps | ForEach-Object { [string]$_.Kind })
        $r.q | Should -Be $fps.Q
        $r.out | Should -Be 3
        @($w).Count | Should -Be 0
    }

    It 'refuses another extension and a mixed stream, and leaves no file when it fails' {
        { $traj | Export-RnnResult (Join-Path $TestDrive 'x.csv') -ErrorAction Stop } | Should -Throw -ErrorId 'ResultExtension,RnnLinearization.ExportRnnResultCommand'
        $path = Join-Path $TestDrive 'mixed.npz'
        $errors = $null
        @($traj[0], (Get-RnnJacobian -Model $m -State $traj[0].State)) | Export-RnnResult $path -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'MixedResults,*'
        Test-Path $path | Should -BeTrue
        Get-ChildItem $TestDrive -Force -Filter '*.parts' | Should -BeNullOrEmpty
        Get-ChildItem $TestDrive -Force -Filter '*.partial' | Should -BeNullOrEmpty
    }
}

Describe 'Inputs of several trials in one file (Get-RnnTrajectory -InputFile)' {
    BeforeAll {
        $script:TrialDir = Join-Path $script:Fixtures 'trials'
        $script:TrialModel = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $script:TrialExpected = (Get-Content (Join-Path $TrialDir 'expected.json') -Raw | ConvertFrom-Json).states
    }

    It 'runs every trial of <File> from the initial state, each state as PyTorch''s nn.RNN gives it, with its Trial and Step' -ForEach @(
        @{ File = 'trials.npy' }, @{ File = 'trials.npz' }) {
        $steps = Get-RnnTrajectory -Model $TrialModel -InputFile (Join-Path $TrialDir $File)
        $steps.Count | Should -Be 120
        ($steps | Group-Object Trial).Name | Should -Be @('0', '1', '2', '3')
        foreach ($s in $steps) {
            $s.Index | Should -BeLessThan 30
            $expected = [double[]]$TrialExpected[$s.Trial][$s.Index]
            for ($i = 0; $i -lt 24; $i++) { [math]::Abs($s.NextState[$i] - $expected[$i]) | Should -BeLessThan 1e-12 }
        }
        $steps[30].State | Should -Be ([double[]]::new(24)) -Because 'each trial starts again from the initial state'
    }

    It 'carries each state''s Trial through the analyses piped after it' {
        $eig = Get-RnnTrajectory -Model $TrialModel -InputFile (Join-Path $TrialDir 'trials.npy') | Get-RnnEigen -Model $TrialModel -NoEigenvectors
        ($eig | Group-Object Trial | ForEach-Object { '{0}:{1}' -f $_.Name, $_.Count }) | Should -Be @('0:30', '1:30', '2:30', '3:30')
        $j = Get-RnnTrajectory -Model $TrialModel -InputFile (Join-Path $TrialDir 'trials.npy') | Select-Object -Last 1 | Get-RnnJacobian -Model $TrialModel
        $j.Trial | Should -Be 3
        $j.Index | Should -Be 29
    }

    It 'follows each trial''s own inputs in a Lyapunov spectrum, one trajectory per trial' {
        $zero = [double[][]]@(, [double[]]::new(24))
        $l = Get-RnnLyapunovSpectrum -Model $TrialModel -InputFile (Join-Path $TrialDir 'trials.npy') -WarmUp 10 -Steps 200 -Count 2 -Local -InitialState $zero
        $l.Trajectories | Should -Be 4
        $l.Interval | Should -Be 'trajectories'
        # Trial 2 alone, driven by its own 30 steps cycled, gives trial 2's segments.
        $two = [double[][]]@(Get-RnnTrajectory -Model $TrialModel -InputFile (Join-Path $TrialDir 'trials.npy') | Where-Object Trial -eq 2 | ForEach-Object { , $_.Input })
        $alone = Get-RnnLyapunovSpectrum -Model $TrialModel -InputSequence $two -WarmUp 10 -Steps 200 -Count 2 -Local -InitialState $zero
        for ($j = 0; $j -lt 10; $j++) { [math]::Abs($l.LocalExponents[20 + $j][0] - $alone.LocalExponents[$j][0]) | Should -BeLessThan 1e-12 }
    }

    It 'refuses <Case> with <Id>' -ForEach @(
        @{ Case = 'a file that is not there'; Id = 'InputFileNotFound'; Name = 'missing.npy' }
        @{ Case = 'a .npz without inputs'; Id = 'InvalidInputFile'; Name = 'states_f64.npz' }
    ) {
        $path = if ($Name -eq 'states_f64.npz') { Join-Path $TestDrive $Name } else { Join-Path $TrialDir $Name }
        if ($Name -eq 'states_f64.npz') { [pscustomobject]@{ State = [double[]](1, 2) } | Export-RnnState $path }
        { Get-RnnTrajectory -Model $TrialModel -InputFile $path } | Should -Throw -ErrorId "$Id,RnnLinearization.GetRnnTrajectoryCommand"
    }
}
