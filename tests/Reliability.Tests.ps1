# Reliability: stopping long work (what Ctrl+C does), one model shared by many runspaces, models with non-finite or
# absurd weights, and a short soak (memory stays flat, the last results equal the first).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # Runs the script (after making $m, a 1,024-unit model, and $states, 64 states of it) in a PowerShell instance,
    # stops it 3 s into its long part, and checks that Stop returned (well within ten seconds) and the session still works.
    function Stop-Midway([string] $Script) {
        $ps = [powershell]::Create()
        try {
            $flag = [hashtable]::Synchronized(@{})
            $null = $ps.AddScript("param(`$flag); Import-Module '$($script:ModulePath)'; `$m = New-RnnModel -InputSize 2 -HiddenSize 1024 -Seed 3; " +
                "`$states = foreach (`$k in 1..64) { [pscustomobject]@{ State = [double[]][Linq.Enumerable]::Repeat([math]::Sin(`$k), 1024) } }; " +
                "`$flag.Started = `$true; $Script").AddArgument($flag)
            $null = $ps.BeginInvoke()
            # Wait until the long part has begun (the set-up is done), then some more.
            $wait = [Diagnostics.Stopwatch]::StartNew()
            while (-not $flag.Started -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 100 }
            Start-Sleep -Seconds 3
            $ps.InvocationStateInfo.State | Should -Be 'Running' -Because 'the work is still going'
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            # Stop returns at once and the piece in flight finishes in the background. The Bench measures it against its
            # one-second goal (bench/Invoke-StopBenchmark.ps1); here a generous bound catches a hang, not a slow machine.
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 10 -Because 'Stop must not wait for the work to end'
            $ps.Commands.Clear()
            $null = $ps.AddScript('(Get-RnnEigen -Model (New-RnnModel -InputSize 1 -HiddenSize 2 -Seed 1) -State 0, 0 -NoEigenvectors).Eigenvalues.Count')
            $ps.Invoke() | Should -Be 2
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Stopping long work at hidden 1,024 (what Ctrl+C does)' {
    It 'stops <Name> without waiting for the work and leaves the session usable' -ForEach @(
        @{ Name = 'Get-RnnEigen with eigenvectors'; Script = '$states | Get-RnnEigen -Model $m | Out-Null' }
        @{ Name = 'Get-RnnEigen of Jacobians'; Script = '$states | Get-RnnJacobian -Model $m | Get-RnnEigen | Out-Null' }
        @{ Name = 'Get-RnnJacobian'; Script = '1..100000 | ForEach-Object { $states[0] } | Get-RnnJacobian -Model $m | Out-Null' }
        @{ Name = 'Invoke-RnnLinearization -Exact'; Script = '$d = foreach ($r in 1..64) { , [double[]][Linq.Enumerable]::Repeat(0.01 * $r, 1024) }; 1..100000 | ForEach-Object { $states[0] } | Invoke-RnnLinearization -Model $m -DeltaState $d -Exact | Out-Null' }
        @{ Name = 'Get-RnnTrajectory'; Script = '$x = foreach ($t in 1..2000000) { , [double[]](0, 0) }; Get-RnnTrajectory -Model $m -InputSequence $x | Out-Null' }
        @{ Name = 'Get-RnnFlowField'; Script = '$states | Get-RnnFlowField -Model $m -GridSize 1000 | Out-Null' }
        @{ Name = 'Find-RnnFixedPoint'; Script = '$states | Find-RnnFixedPoint -Model $m -All | Out-Null' }
        # One iteration per start, then the eigenvalues at 16 points (about a second each at 1,024 units).
        @{ Name = 'Find-RnnFixedPoint in its eigendecompositions'; Script = '$states[0..15] | Find-RnnFixedPoint -Model $m -All -MaxIterations 1 | Out-Null' }
        @{ Name = 'Find-RnnFixedPoint -Method Adam'; Script = '$states | Find-RnnFixedPoint -Model $m -Method Adam -TolQ 0 -TolDq 0 -MaxIterations 1000000 -All | Out-Null' }
        # A pickle of 8 million dicts: about a second to read up to its budget, again and again.
        @{ Name = 'Import-RnnModel reading a file'; Script = '1..1000 | ForEach-Object { Import-RnnModel FIXTURES/hostile/f4_empty_dict_8m.pt -ErrorAction SilentlyContinue } | Out-Null' }
        @{ Name = 'Get-RnnFileContent reading a file'; Script = '1..1000 | ForEach-Object { Get-RnnFileContent FIXTURES/hostile/f1_rebuild_from_type_nested.pt -ErrorAction SilentlyContinue } | Out-Null' }
    ) {
        Stop-Midway $Script.Replace('FIXTURES', $script:Fixtures)
    }

    It 'stops Export-RnnResult mid-stream, leaving neither a file under its name nor temporary parts' {
        $dir = Join-Path $TestDrive 'export'
        New-Item -ItemType Directory $dir | Out-Null
        Stop-Midway "1..100000 | ForEach-Object { `$states[0] } | Get-RnnJacobian -Model `$m | Export-RnnResult '$dir/jacobians.npz'"
        # The piece in flight ends in the background, and its parts go when it does: wait for that, up to a bound.
        $wait = [Diagnostics.Stopwatch]::StartNew()
        while (@(Get-ChildItem $dir -Force).Count -gt 0 -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 200 }
        @(Get-ChildItem $dir -Force).Count | Should -Be 0
    }
}

Describe 'A job killed by SIGTERM (timeout, a Slurm time limit)' {
    It 'leaves no temporary parts beside Export-RnnResult''s target' {
        $dir = Join-Path $TestDrive 'sigterm'
        New-Item -ItemType Directory $dir | Out-Null
        $script = "Import-Module '$($script:ModulePath)'; `$m = New-RnnModel -InputSize 2 -HiddenSize 256 -Seed 3; " +
            "`$s = [pscustomobject]@{ State = [double[]][Linq.Enumerable]::Repeat(0.1, 256) }; " +
            "1..1000000 | ForEach-Object { `$s } | Get-RnnJacobian -Model `$m | Export-RnnResult '$dir/jacobians.npz'"
        $job = Start-Process dotnet -ArgumentList (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $script -PassThru
        try {
            # Until the parts hold some megabytes: the job is writing.
            $wait = [Diagnostics.Stopwatch]::StartNew()
            do {
                Start-Sleep -Milliseconds 200
                $bytes = (Get-ChildItem $dir -Recurse -Force -File -ErrorAction SilentlyContinue | Measure-Object Length -Sum).Sum
            } until ($bytes -gt 8MB -or $job.HasExited -or $wait.Elapsed.TotalSeconds -gt 120)
            $job.HasExited | Should -BeFalse -Because 'the export is still going'
            @(Get-ChildItem $dir -Force -Directory).Name | Should -BeLike '.jacobians.npz.*.parts'
            & kill -TERM $job.Id
            $job.WaitForExit(20000) | Should -BeTrue
        }
        finally { if (-not $job.HasExited) { $job.Kill($true) } }
        @(Get-ChildItem $dir -Force).Count | Should -Be 0 -Because 'ProcessExit deletes the parts'
    }

    It 'sweeps beside its target what a killed process of this host left an hour ago, never a live process''s or a recent one''s' {
        $dir = Join-Path $TestDrive 'sweep'
        New-Item -ItemType Directory $dir | Out-Null
        # The names' host field: the full host name (letters, digits, '-'; others '_'), '-', the PID namespace's inode.
        $name = [string]::Concat([Net.Dns]::GetHostName().ToCharArray().ForEach({ if ([char]::IsAsciiLetterOrDigit($_) -or $_ -eq '-') { $_ } else { '_' } }))
        $namespace = -join ((& readlink /proc/self/ns/pid).ToCharArray() | Where-Object { [char]::IsAsciiDigit($_) })
        $hostField = "$name-$namespace"
        $guid = '0123456789abcdef0123456789abcdef'
        $old = (Get-Date).AddHours(-2)
        function New-Left([string] $Owner, [datetime] $When) {
            $d = New-Item -ItemType Directory (Join-Path $dir ".r.npz.$Owner.$guid.parts")
            $f = New-Item -ItemType File (Join-Path $d '0.bin')
            $f.LastWriteTime = $When
            $d.LastWriteTime = $When
            $d
        }
        $dead = New-Left "$hostField.2147483646" $old          # no such process: left by a killed job
        $recent = New-Left "$hostField.2147483645" (Get-Date)   # dead too, but written to a moment ago
        $live = New-Left "$hostField.1" $old                    # pid 1 runs
        $other = New-Left "otherhost-1.2147483646" $old         # another host's: its pids mean nothing here
        $m = New-RnnModel -InputSize 2 -HiddenSize 3 -Seed 1
        [pscustomobject]@{ State = [double[]](0.1, 0.2, 0.3) } | Get-RnnJacobian -Model $m | Export-RnnResult (Join-Path $dir 'r.npz')
        Test-Path $dead | Should -BeFalse
        Test-Path $recent | Should -BeTrue
        Test-Path $live | Should -BeTrue
        Test-Path $other | Should -BeTrue
        Test-Path (Join-Path $dir 'r.npz') | Should -BeTrue
    }
}

Describe 'Models that cannot be analysed are refused at import' {
    It 'refuses NaN and infinite weights (a diverged run''s checkpoint from PyTorch), naming the parameter' {
        $err = { Import-RnnModel (Join-Path $Fixtures 'realfiles/bad_diverged.pt') -ErrorAction Stop } | Should -Throw -ErrorId 'NonFiniteWeight,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match "model_state_dict\.(weight_hh_l0' holds 2|bias_ih_l0' holds 1) NaN or infinite"
        $err.CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'refuses NaN weights in a TorchScript cell (torch.jit.script(nn.GRUCell) from PyTorch), naming the parameter' {
        $err = { Import-RnnModel (Join-Path $Fixtures 'realfiles/bad_diverged_script.pt') -Architecture TorchScript -InputSize 2 -HiddenSize 3 -ErrorAction Stop } | Should -Throw -ErrorId 'NonFiniteWeight,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match "'weight_hh' holds 1 NaN or infinite value\(s\) of 27"
    }

    It 'refuses a zero-size network (nn.RNN(0, 4) saved by PyTorch)' {
        $err = { Import-RnnModel (Join-Path $Fixtures 'realfiles/bad_zero_inputs.pt') -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterShapeMismatch,RnnLinearization.ImportRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match "weight_ih_l0' has shape \[4, 0\]"
    }

    It 'refuses a network larger than the machine''s memory before allocating it, with the number it would need' {
        $err = { New-RnnModel -InputSize 1 -HiddenSize 1000000 } | Should -Throw -ErrorId 'InsufficientMemory,RnnLinearization.NewRnnModelCommand' -PassThru
        $err.Exception.Message | Should -Match 'needs about [\d.]+ (GB|TB)'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        # The process and the session go on.
        (New-RnnModel -InputSize 1 -HiddenSize 3 -Seed 1).HiddenSize | Should -Be 3
    }
}

Describe 'One model shared by many runspaces' {
    BeforeAll {
        $script:Shared = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $script:Probe = foreach ($k in 1..1000) { , [double[]](1..24 | ForEach-Object { [math]::Sin(0.37 * $k * $_) }) }
        # The sequential answer: each call on its own, in this runspace.
        $script:Sequential = foreach ($h in $Probe) {
            $j = Get-RnnJacobian -Model $Shared -State $h
            $e = Get-RnnEigen -Model $Shared -State $h -NoEigenvectors
            [pscustomobject]@{ Next = $j.NextState; Row = $j.StateJacobian[5]; Radius = $e.SpectralRadius }
        }
    }

    It 'gives the same numbers from 1,000 calls with ForEach-Object -Parallel (4 runspaces) as one after another, to 1e-12' {
        $module = $ModulePath
        $parallel = 0..999 | ForEach-Object -ThrottleLimit 4 -Parallel {
            Import-Module $using:module
            $m = $using:Shared
            $h = ($using:Probe)[$_]
            $j = Get-RnnJacobian -Model $m -State $h
            $e = Get-RnnEigen -Model $m -State $h -NoEigenvectors
            [pscustomobject]@{ K = $_; Next = $j.NextState; Row = $j.StateJacobian[5]; Radius = $e.SpectralRadius }
        } | Sort-Object K
        $parallel.Count | Should -Be 1000
        # The largest difference in units of the tolerance 1e-12 |value| + 1e-15, over every number of every call.
        $worst = 0.0
        for ($k = 0; $k -lt 1000; $k++) {
            $a = @($Sequential[$k].Next) + @($Sequential[$k].Row) + @($Sequential[$k].Radius)
            $b = @($parallel[$k].Next) + @($parallel[$k].Row) + @($parallel[$k].Radius)
            $b.Count | Should -Be $a.Count
            for ($i = 0; $i -lt $a.Count; $i++) { $worst = [math]::Max($worst, [math]::Abs($a[$i] - $b[$i]) / (1e-12 * [math]::Abs($a[$i]) + 1e-15)) }
        }
        $worst | Should -BeLessOrEqual 1
    }

    It 'gives the same fixed points from thread jobs (Start-ThreadJob) as in this runspace' {
        $module = $ModulePath
        $here = $Probe[0..63] | ForEach-Object { [pscustomobject]@{ State = $_ } } | Find-RnnFixedPoint -Model $Shared -Count 128 -Seed 4 -Noise 0.3
        $jobs = 1..4 | ForEach-Object {
            Start-ThreadJob -ArgumentList $module, $Shared, $Probe {
                param($module, $m, $probe)
                Import-Module $module
                $probe[0..63] | ForEach-Object { [pscustomobject]@{ State = $_ } } | Find-RnnFixedPoint -Model $m -Count 128 -Seed 4 -Noise 0.3
            }
        }
        $results = $jobs | Receive-Job -Wait -AutoRemoveJob
        $results.Count | Should -Be (4 * $here.Count)
        foreach ($r in $results) {
            $same = $here[$r.Index]
            Assert-Close $same.State $r.State -Rel 1e-12 -Abs 1e-13
            $r.Kind | Should -Be $same.Kind
        }
    }
}

Describe 'Soak (short): pass after pass of every analysis' {
    It 'keeps memory flat and gives the first pass''s numbers in every pass (bench/Invoke-Soak.ps1, 6 passes)' {
        $out = Join-Path $TestDrive 'soak.json'
        $log = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot '../bench/Invoke-Soak.ps1') `
            -ModulePath $ModulePath -Passes 6 -StateCount 128 -OutFile $out 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($log | Out-String)
        $summary = Get-Content $out -Raw | ConvertFrom-Json
        $summary.Passes | Should -Be 6
        $summary.ResultsSame | Should -BeTrue
        $summary.MemoryFlat | Should -BeTrue
        $summary.FixedPoints | Should -BeGreaterThan 0
    }
}
