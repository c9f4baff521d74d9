# Sharding for array jobs: shards of a state file partition its rows, and parts written by Export-RnnResult join into
# the one-process result (Join-RnnResult, and numpy itself).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Model = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
    $inputs = foreach ($t in 1..103) { , [double[]]([math]::Sin($t), 0, [math]::Cos(2 * $t)) }
    $script:Traj = Get-RnnTrajectory -Model $Model -InputSequence $inputs
    $script:Dir = Join-Path $TestDrive 'shards'
    New-Item -ItemType Directory $Dir | Out-Null
    foreach ($ext in 'csv', 'npy', 'npz', 'json') { $Traj | Export-RnnState (Join-Path $Dir "states.$ext") }
    # A CSV without a header (states only), as other programs write them.
    Set-Content (Join-Path $Dir 'plain.csv') ($Traj | ForEach-Object { ($_.State | ForEach-Object { $_.ToString('R') }) -join ',' })
}

Describe 'Import-RnnState -Shard -ShardCount on <File>' -ForEach @(
    @{ File = 'states.csv' }, @{ File = 'plain.csv' }, @{ File = 'states.npy' }, @{ File = 'states.npz' }, @{ File = 'states.json' }) {
    It 'cuts the rows into <Count> contiguous shards, every row in one, sizes within one of each other' -ForEach @(
        @{ Count = 1 }, @{ Count = 4 }, @{ Count = 7 }, @{ Count = 103 }, @{ Count = 150 }) {
        $path = Join-Path $Dir $File
        $whole = Import-RnnState $path
        $whole.Count | Should -Be 103
        $shards = foreach ($i in 0..($Count - 1)) { , @(Import-RnnState $path -Shard $i -ShardCount $Count) }
        $sizes = $shards | ForEach-Object { $_.Count }
        ($sizes | Measure-Object -Sum).Sum | Should -Be 103
        (($sizes | Measure-Object -Maximum).Maximum - ($sizes | Measure-Object -Minimum).Minimum) | Should -BeLessOrEqual 1
        $joined = @($shards | ForEach-Object { $_ })
        for ($k = 0; $k -lt 103; $k++) {
            $joined[$k].Index | Should -Be $whole[$k].Index
            $joined[$k].Index | Should -Be $k -Because 'Index is the row''s number in the whole file'
            $joined[$k].State | Should -Be $whole[$k].State
            $joined[$k].Input | Should -Be $whole[$k].Input
        }
    }
}

Describe 'Import-RnnState refuses a shard that does not exist' {
    It 'refuses -Shard <Shard> -ShardCount <Count>' -ForEach @(@{ Shard = 4; Count = 4 }, @{ Shard = 0; Count = 0 }, @{ Shard = -1; Count = 3 }) {
        { Import-RnnState (Join-Path $Dir 'states.npy') -Shard $Shard -ShardCount $Count } | Should -Throw -ErrorId 'InvalidShard,RnnLinearization.ImportRnnStateCommand'
    }

    It 'refuses -Shard without -ShardCount' {
        { Import-RnnState (Join-Path $Dir 'states.npy') -Shard 1 } | Should -Throw -ErrorId 'InvalidShard,RnnLinearization.ImportRnnStateCommand'
    }
}

Describe 'Parts of an array job join into the one-process result' {
    BeforeAll {
        # Compares two .npz files with numpy itself (tools/compare_npz.py, which ClusterTest uses too).
        $script:Compare = Join-Path $PSScriptRoot '../tools/compare_npz.py'
    }

    It 'joins 4 shards of spectra, given in any order, into exactly the arrays of one Get-RnnEigen run' {
        $states = Join-Path $Dir 'states.npz'
        Import-RnnState $states | Get-RnnEigen -Model $Model | Export-RnnResult (Join-Path $Dir 'whole.npz')
        foreach ($i in 0..3) {
            Import-RnnState $states -Shard $i -ShardCount 4 | Get-RnnEigen -Model $Model | Export-RnnResult (Join-Path $Dir "eig-part-$i.npz")
        }
        $parts = 2, 0, 3, 1 | ForEach-Object { Join-Path $Dir "eig-part-$_.npz" }
        $file = Join-RnnResult $parts (Join-Path $Dir 'joined.npz') -PassThru
        $file | Should -BeOfType [IO.FileInfo]
        $out = & /usr/bin/python3 $Compare (Join-Path $Dir 'whole.npz') $file.FullName 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        "$out" | Should -BeLike 'same * 103 ordered' -Because 'every index once, in order'
    }

    It 'joins shards of the starts of a fixed-point search (-All) into the one-process result' {
        $starts = Join-Path $Dir 'states.npy'
        Find-RnnFixedPoint -Model $Model -InitialState $starts -Count 48 -Noise 0.2 -Seed 3 -All | Export-RnnResult (Join-Path $Dir 'fp-whole.npz')
        foreach ($i in 0..2) {
            Find-RnnFixedPoint -Model $Model -InitialState $starts -Count 48 -Noise 0.2 -Seed 3 -All -Shard $i -ShardCount 3 |
                Export-RnnResult (Join-Path $Dir "fp-part-$i.npz")
        }
        Join-RnnResult (Join-Path $Dir 'fp-part-*.npz') (Join-Path $Dir 'fp-joined.npz')
        $out = & /usr/bin/python3 $Compare (Join-Path $Dir 'fp-whole.npz') (Join-Path $Dir 'fp-joined.npz') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        "$out" | Should -BeLike 'same * 48 ordered'
    }

    It 'keeps the given order for parts numbered from 0 each (one per checkpoint), with a column that names the part' {
        $a = Find-RnnFixedPoint -Model $Model -InitialState (Join-Path $Dir 'states.npy') -Count 64 -Seed 1 -Noise 0.3
        foreach ($name in 'epoch-1', 'epoch-2') {
            $a | ForEach-Object { $_ | Add-Member -NotePropertyName Checkpoint -NotePropertyValue $name -PassThru -Force } | Export-RnnResult (Join-Path $Dir "ck-$name.npz")
        }
        Join-RnnResult (Join-Path $Dir 'ck-*.npz') (Join-Path $Dir 'ck.npz')
        $out = & /usr/bin/python3 -c "import numpy as np; d = np.load('$(Join-Path $Dir 'ck.npz')'); print(list(d['Checkpoint'][[0, -1]]), d['Index'].tolist() == 2 * list(range($($a.Count))))" 2>&1
        "$out" | Should -Be "['epoch-1', 'epoch-2'] True"
    }

    It 'joins the kept points of shards once each with -Unique: the lowest Q of each group, StartCount summed' {
        $starts = Join-Path $Dir 'states.npy'
        # Shards of one search keep their own points: the memories several of them reach come once from each.
        $all = @(foreach ($i in 0..2) {
            $part = @(Find-RnnFixedPoint -Model $Model -InitialState $starts -Count 96 -Noise 0.4 -Seed 5 -Shard $i -ShardCount 3 -WarningAction SilentlyContinue)
            $part | Export-RnnResult (Join-Path $Dir "uq-part-$i.npz")
            $part
        })
        # Independently here: group the union by the same rule (every coordinate closer than 1e-3), lowest Q first.
        $groups = [System.Collections.Generic.List[object]]::new()
        foreach ($p in $all | Sort-Object Q) {
            $same = $groups | Where-Object { $g = $_; @(0..($p.State.Count - 1) | Where-Object { [math]::Abs($g.State[$_] - $p.State[$_]) -ge 1e-3 }).Count -eq 0 } | Select-Object -First 1
            if ($same) {
                $same.Count += $p.StartCount
                if ($p.FirstStart -ge 0 -and ($same.First -lt 0 -or $p.FirstStart -lt $same.First)) { $same.First = $p.FirstStart }
            }
            else { $groups.Add([pscustomobject]@{ State = $p.State; Q = $p.Q; Count = $p.StartCount; First = $p.FirstStart }) }
        }
        $all.Count | Should -BeGreaterThan $groups.Count -Because 'the shards found some points more than once'
        Join-RnnResult (Join-Path $Dir 'uq-part-*.npz') (Join-Path $Dir 'uq.npz') -Unique -Verbose 4>&1 | Out-String | Should -BeLike "*kept $($groups.Count) of $($all.Count) rows*"
        $read = & /usr/bin/python3 -c "import numpy, json, sys; d = numpy.load(sys.argv[1]); print(json.dumps([d['Q'].tolist(), d['StartCount'].tolist(), d['State'].shape[0], d['Kind'].shape[0], d['Index'].tolist(), d['FirstStart'].tolist()]))" (Join-Path $Dir 'uq.npz') | ConvertFrom-Json
        $read[2] | Should -Be $groups.Count
        $read[3] | Should -Be $groups.Count -Because 'every array is cut to the kept rows'
        ($read[1] | Measure-Object -Sum).Sum | Should -Be (($all | Measure-Object StartCount -Sum).Sum)
        ($read[0] | Sort-Object) | Should -Be ($groups.Q | Sort-Object)
        ($read[1] | Sort-Object) | Should -Be ($groups | ForEach-Object Count | Sort-Object)
        $read[4] | Should -Be @(0..($groups.Count - 1)) -Because 'the parts'' Index values repeat; the kept rows are numbered afresh'
        # A point that some start found has the group's first start, not a probe's -1.
        ($read[5] | Sort-Object) | Should -Be ($groups | ForEach-Object First | Sort-Object)
    }

    It 'refuses -Unique for results other than fixed points (UniqueNeedsFixedPoints)' {
        Import-RnnState (Join-Path $Dir 'states.npy') | Get-RnnEigen -Model $Model -PerMode | Select-Object -First 4 | Export-RnnResult (Join-Path $Dir 'modes-0.npz')
        { Join-RnnResult (Join-Path $Dir 'modes-0.npz') (Join-Path $Dir 'modes.npz') -Unique -ErrorAction Stop } | Should -Throw -ErrorId 'UniqueNeedsFixedPoints*'
        Import-RnnState (Join-Path $Dir 'states.npy') | Get-RnnEigen -Model $Model -NoEigenvectors | Select-Object -First 4 | Export-RnnResult (Join-Path $Dir 'spectra-0.npz')
        { Join-RnnResult (Join-Path $Dir 'spectra-0.npz') (Join-Path $Dir 'spectra.npz') -Unique -ErrorAction Stop } | Should -Throw -ErrorId 'UniqueNeedsFixedPoints*' -Because 'spectra carry a State but are not fixed points'
    }

    It 'refuses parts that hold different arrays' {
        Import-RnnState (Join-Path $Dir 'states.npy') | Export-RnnResult (Join-Path $Dir 'other.npz')
        { Join-RnnResult (Join-Path $Dir 'eig-part-0.npz'), (Join-Path $Dir 'other.npz') (Join-Path $Dir 'bad.npz') } | Should -Throw -ErrorId 'PartsDiffer,RnnLinearization.JoinRnnResultCommand'
        Test-Path (Join-Path $Dir 'bad.npz') | Should -BeFalse
    }

    It 'asks for -Seed when shards draw random starts' {
        { Find-RnnFixedPoint -Model $Model -InitialState (Join-Path $Dir 'states.npy') -Count 10 -Shard 0 -ShardCount 2 } | Should -Throw -ErrorId 'ShardNeedsSeed,RnnLinearization.FindRnnFixedPointCommand'
    }
}

Describe 'Shards of a file of several trials keep their rows' {
    BeforeAll {
        # Four trials of 30 steps in one file, as users keep them: each trial's Index runs 0..29 again.
        $rows = foreach ($trial in 0..3) {
            $inputs = foreach ($t in 1..30) { , [double[]]([math]::Sin($t + 7 * $trial), 0, [math]::Cos($t * ($trial + 1))) }
            Get-RnnTrajectory -Model $Model -InputSequence $inputs
        }
        $script:Trials = Join-Path $Dir 'trials.npz'
        $rows | Export-RnnState $Trials
        $script:Compare = Join-Path $PSScriptRoot '../tools/compare_npz.py'
    }

    It 'numbers every row by its place in the file (SourceRow), whichever shard reads it, beside the file''s own Index' {
        $whole = Import-RnnState $Trials
        @($whole.Index | Select-Object -Unique).Count | Should -Be 30
        $whole.SourceRow | Should -Be (0..119)
        $shards = foreach ($i in 0..11) { Import-RnnState $Trials -Shard $i -ShardCount 12 }
        $shards.SourceRow | Should -Be (0..119)
        $shards.Index | Should -Be $whole.Index
        (Import-RnnState $Trials | Get-RnnJacobian -Model $Model | Select-Object -Last 1).SourceRow | Should -Be 119
    }

    It 'joins 12 parts given by a wildcard in the file''s row order (part-10 after part-9), equal to one run' {
        Import-RnnState $Trials | Get-RnnEigen -Model $Model -NoEigenvectors | Export-RnnResult (Join-Path $Dir 'trials-whole.npz')
        foreach ($i in 0..11) {
            Import-RnnState $Trials -Shard $i -ShardCount 12 | Get-RnnEigen -Model $Model -NoEigenvectors | Export-RnnResult (Join-Path $Dir "trials-part-$i.npz")
        }
        $verbose = Join-RnnResult (Join-Path $Dir 'trials-part-*.npz') (Join-Path $Dir 'trials-joined.npz') -Verbose 4>&1
        "$verbose" | Should -BeLike '*SourceRow*'
        $out = & /usr/bin/python3 $Compare (Join-Path $Dir 'trials-whole.npz') (Join-Path $Dir 'trials-joined.npz') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        $rows = & /usr/bin/python3 -c "import numpy as np; print(np.load('$(Join-Path $Dir 'trials-joined.npz')')['SourceRow'].tolist() == list(range(120)))"
        "$rows" | Should -Be 'True'
    }

    It 'joins parts that hold the same rows of their files (one per state file) in the order given, with a warning naming both' {
        Import-RnnState $Trials -Shard 0 -ShardCount 2 | Get-RnnEigen -Model $Model -NoEigenvectors | Export-RnnResult (Join-Path $Dir 'twice-a.npz')
        Copy-Item (Join-Path $Dir 'twice-a.npz') (Join-Path $Dir 'twice-b.npz')
        $warnings = Join-RnnResult (Join-Path $Dir 'twice-*.npz') (Join-Path $Dir 'twice.npz') 3>&1
        "$warnings" | Should -BeLike "*twice-a.npz*rows 0-59*twice-b.npz*rows 0-59*"
        $rows = & /usr/bin/python3 -c "import numpy as np; print(np.load('$(Join-Path $Dir 'twice.npz')')['SourceRow'].tolist() == 2 * list(range(60)))"
        "$rows" | Should -Be 'True'
    }

    It 'takes parts numbered from 0 each (no SourceRow) in natural order: run-2 before run-10' {
        foreach ($k in 2, 10) {
            $Traj | Select-Object -First 5 | ForEach-Object { [pscustomobject]@{ Index = $_.Index; Run = $k; State = $_.State } } |
                Export-RnnResult (Join-Path $Dir "run-$k.npz")
        }
        $verbose = Join-RnnResult (Join-Path $Dir 'run-*.npz') (Join-Path $Dir 'runs.npz') -Verbose 4>&1
        "$verbose" | Should -BeLike '*order given*'
        $out = & /usr/bin/python3 -c "import numpy as np; print(np.load('$(Join-Path $Dir 'runs.npz')')['Run'].tolist())"
        "$out" | Should -Be '[2, 2, 2, 2, 2, 10, 10, 10, 10, 10]'
    }
}
