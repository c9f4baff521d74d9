# The fixed-point graph (Get-RnnFixedPointGraph, Compare-RnnFixedPointGraph) against what is known without our code:
# bistable units whose points and edges are closed form (tests/fixtures/generate_graph.py), and the 3-bit flip-flop's
# structure (Sussillo & Barak 2013; Maheswaranathan et al. 2019): 8 memories, each index-1 saddle between two that
# differ in one bit, the same for networks of different architectures trained on the task.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Dir = Join-Path $script:Fixtures 'graph'
    $script:Expected = Get-Content (Join-Path $Dir 'expected.json') -Raw | ConvertFrom-Json -AsHashtable
    $script:Threads = (Get-RnnConfiguration).ThreadCount
    Set-RnnConfiguration -ThreadCount 1
    $script:Pulses = foreach ($t in 1..200) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * ($t % 50 -eq 0) }; , $x }
    # A flip-flop network's points from its own driven trajectory plus noise, as the README finds them.
    function script:Points($m) {
        Get-RnnTrajectory -Model $m -InputSequence $Pulses | Find-RnnFixedPoint -Model $m -Count 512 -Noise 0.5 -Seed 1 -WarningAction SilentlyContinue
    }
    function script:Bits($point) { ($point.Output | ForEach-Object { if ($_ -gt 0) { '1' } else { '0' } }) -join '' }
    $script:Bundled = Import-RnnModel (Join-Path (Split-Path $PSScriptRoot) 'examples/flipflop_rnn.pt')
    $script:BundledPoints = Points $Bundled
    $script:BundledEdges = $BundledPoints | Get-RnnFixedPointGraph -Model $Bundled
}

AfterAll { Set-RnnConfiguration -ThreadCount $script:Threads }

Describe 'Get-RnnFixedPointGraph on networks known in closed form' {
    It 'runs from the unstable origin of h'' = tanh(2h) to +x* and -x*, x* = tanh(2x*)' {
        $m = Import-RnnModel (Join-Path $Dir 'bistable1.pt')
        $points = Find-RnnFixedPoint -Model $m -InitialState ([double[][]]@(@(-2.0), @(-0.01), @(0.02), @(1.5)))
        $points.Count | Should -Be 3
        $edges = $points | Get-RnnFixedPointGraph -Model $m
        $edges.Count | Should -Be 2
        $origin = $points | Where-Object { [math]::Abs($_.State[0]) -lt 1e-12 }
        $origin.Kind | Should -Be 'Unstable'
        foreach ($e in $edges) {
            $e.From | Should -Be $origin.Index
            $e.Outcome | Should -Be 'Settled'
            $to = $points | Where-Object Index -eq $e.To
            $to.Kind | Should -Be 'Stable'
            [math]::Abs([math]::Abs($to.State[0]) - $Expected.x_star) | Should -BeLessThan 1e-10
            [math]::Sign($e.State[0]) | Should -Be ([math]::Sign($to.State[0]))
            $e.Distance | Should -BeLessOrEqual 1e-3
            $e.Path[0][0] | Should -Not -Be $e.Path[-1][0]
        }
        ($edges | ForEach-Object { [math]::Sign(($points | Where-Object Index -eq $_.To).State[0]) } | Sort-Object) | Should -Be @(-1, 1)
    }

    It 'joins each index-1 saddle of two bistable units to the two memories that agree with it' {
        $m = Import-RnnModel (Join-Path $Dir 'bistable2.pt')
        $x = $Expected.x_star
        $starts = [double[][]]@(foreach ($a in -1.5, -0.01, 0, 0.01, 1.5) { foreach ($b in -1.5, -0.01, 0, 0.01, 1.5) { , [double[]]($a, $b) } })
        $points = Find-RnnFixedPoint -Model $m -InitialState $starts -NoProbes
        @($points | Where-Object Kind -eq Stable).Count | Should -Be 4
        $edges = $points | Get-RnnFixedPointGraph -Model $m
        $edges.Count | Should -Be 12 -Because 'four index-1 saddles with two runs each, and the index-2 origin with four'
        @($edges | Where-Object Outcome -ne Settled).Count | Should -Be 0
        $saddles = $Expected.bistable2.saddles
        for ($i = 0; $i -lt 4; $i++) {
            $saddle = $points | Where-Object { [math]::Abs($_.State[0] - $saddles[$i][0]) -lt 1e-9 -and [math]::Abs($_.State[1] - $saddles[$i][1]) -lt 1e-9 }
            $saddle.UnstableCount | Should -Be 1
            $reached = $edges | Where-Object From -eq $saddle.Index | ForEach-Object { $t = $_.To; $points | Where-Object Index -eq $t }
            @($reached).Count | Should -Be 2
            foreach ($want in $Expected.bistable2.joins[$i]) {
                @($reached | Where-Object { [math]::Abs($_.State[0] - $want[0]) -lt 1e-9 -and [math]::Abs($_.State[1] - $want[1]) -lt 1e-9 }).Count | Should -Be 1
            }
        }
        [math]::Abs($x - 0.9575) | Should -BeLessThan 1e-4
    }

    It 'says what became of runs that reached no piped stable point' {
        $m = Import-RnnModel (Join-Path $Dir 'bistable1.pt')
        $points = Find-RnnFixedPoint -Model $m -InitialState ([double[][]]@(@(-2.0), @(0.02), @(1.5)))
        $edges = $points | Where-Object Kind -ne Stable | Get-RnnFixedPointGraph -Model $m -WarningVariable warned -WarningAction SilentlyContinue
        $edges.Count | Should -Be 2
        ($edges | ForEach-Object Outcome | Sort-Object -Unique) | Should -Be 'Elsewhere'
        @($edges | Where-Object { $null -ne $_.To }).Count | Should -Be 0
        "$warned" | Should -BeLike '*No stable point was piped*'
        $short = $points | Get-RnnFixedPointGraph -Model $m -MaxSteps 3 -WarningAction SilentlyContinue
        ($short | ForEach-Object Outcome | Sort-Object -Unique) | Should -Be 'NotSettled'
        ($short | ForEach-Object Steps | Sort-Object -Unique) | Should -Be 3
    }

    It 'refuses fixed points of different inputs (FixedPointInputsDiffer)' {
        $m = Import-RnnModel (Join-Path $Dir 'bistable1.pt')
        $a = Find-RnnFixedPoint -Model $m -InitialState ([double[][]]@(@(0.01), @(1.5)))
        $b = Find-RnnFixedPoint -Model $m -Input 0.5 -InitialState ([double[][]]@(@(1.5)))
        { @($a) + @($b) | Get-RnnFixedPointGraph -Model $m -ErrorAction Stop } | Should -Throw -ErrorId 'FixedPointInputsDiffer,RnnLinearization.GetRnnFixedPointGraphCommand'
    }
}

Describe 'Get-RnnFixedPointGraph on the 3-bit flip-flop' {
    It 'joins each of the 12 index-1 saddles to two memories that differ in one bit' {
        $memories = @($BundledPoints | Where-Object Kind -eq Stable)
        $memories.Count | Should -Be 8
        @($memories | ForEach-Object { Bits $_ } | Sort-Object -Unique).Count | Should -Be 8
        $firstOrder = @($BundledPoints | Where-Object { $_.Kind -eq 'Saddle' -and $_.UnstableCount -eq 1 })
        $firstOrder.Count | Should -Be 12
        foreach ($saddle in $firstOrder) {
            $runs = @($BundledEdges | Where-Object From -eq $saddle.Index)
            $runs.Count | Should -Be 2
            ($runs | ForEach-Object Outcome | Sort-Object -Unique) | Should -Be 'Settled'
            $a, $b = $runs | ForEach-Object { $t = $_.To; Bits ($memories | Where-Object Index -eq $t) }
            $differ = 0
            for ($i = 0; $i -lt 3; $i++) { if ($a[$i] -ne $b[$i]) { $differ++ } }
            $differ | Should -Be 1 -Because "saddle $($saddle.Index) joins $a and $b"
        }
    }

    It 'exports its edges to CSV, JSON and .npz, and draws them over the fixed points' {
        $csv = Join-Path $TestDrive 'edges.csv'
        $BundledEdges | Select-Object From, Mode, Direction, To, Outcome, Steps, Distance | Export-Csv $csv
        (Import-Csv $csv).Count | Should -Be $BundledEdges.Count
        ($BundledEdges[0] | ConvertTo-Json -Depth 4 -EnumsAsStrings | ConvertFrom-Json).Outcome | Should -Be 'Settled'
        # As numpy reads the .npz: the complex Eigenvalue of each run, its To and its end State.
        $npz = Join-Path $TestDrive 'edges.npz'
        $BundledEdges | Export-RnnResult $npz -WarningAction SilentlyContinue
        $read = & /usr/bin/python3 -c "import numpy, json, sys; d = numpy.load(sys.argv[1]); print(json.dumps([d['Eigenvalue'].real.tolist(), d['To'].tolist(), list(d['State'].shape)]))" $npz | ConvertFrom-Json
        for ($i = 0; $i -lt $BundledEdges.Count; $i++) {
            $read[0][$i] | Should -Be $BundledEdges[$i].Eigenvalue.Real
            $read[1][$i] | Should -Be $BundledEdges[$i].To
        }
        $read[2] | Should -Be @($BundledEdges.Count, 24)
        $png = Join-Path $TestDrive 'graph.png'
        $file = @($BundledPoints) + @($BundledEdges) | Export-RnnPlot $png -PassThru
        $file.Length | Should -BeGreaterThan 10000
    }
}

Describe 'Compare-RnnFixedPointGraph' {
    BeforeAll {
        $script:Gru = Import-RnnModel (Join-Path (Split-Path $PSScriptRoot) 'bench/networks/gru32_flipflop3.pt')
        $script:GruPoints = Points $Gru
        $script:GruEdges = $GruPoints | Get-RnnFixedPointGraph -Model $Gru
    }

    It 'finds the same topology in a tanh network and a GRU trained on the 3-bit flip-flop, matched by readout' {
        $c = Compare-RnnFixedPointGraph $BundledEdges $GruEdges
        $c.Isomorphic | Should -BeTrue
        $c.MatchedBy | Should -Be 'Output'
        $c.ReferenceStableCount | Should -Be 8
        $c.ReferenceSaddles | Should -Be $c.DifferenceSaddles
        $c.ReferenceStable.Count | Should -Be 8
        # The matching pairs memories of the same bits.
        for ($i = 0; $i -lt 8; $i++) {
            $a = $BundledPoints | Where-Object Index -eq $c.ReferenceStable[$i]
            $b = $GruPoints | Where-Object Index -eq $c.DifferenceStable[$i]
            Bits $a | Should -Be (Bits $b)
        }
    }

    It 'finds no matching once one saddle''s run is taken away, and says the counts differ for a 2-bit network' {
        $first = $BundledEdges | Where-Object FromUnstableCount -eq 1 | Select-Object -First 1
        $cut = @($BundledEdges | Where-Object { -not ($_.From -eq $first.From -and $_.Direction -eq $first.Direction) })
        # The saddle keeps one run, so it joins one memory: no matching carries it onto a saddle joining two.
        (Compare-RnnFixedPointGraph $BundledEdges $cut).Isomorphic | Should -BeFalse
        $lstm = Import-RnnModel (Join-Path (Split-Path $PSScriptRoot) 'bench/networks/lstm20_flipflop2.pt')
        $twoBit = Get-RnnTrajectory -Model $lstm -InputSequence ($Pulses | ForEach-Object { , [double[]]$_[0..1] }) |
            Find-RnnFixedPoint -Model $lstm -Count 256 -Noise 0.5 -Seed 1 -WarningAction SilentlyContinue | Get-RnnFixedPointGraph -Model $lstm -WarningAction SilentlyContinue
        $c = $twoBit | Compare-RnnFixedPointGraph $BundledEdges
        $c.Isomorphic | Should -BeFalse
        $c.MatchedBy | Should -Be 'Counts'
    }

    It 'leaves Isomorphic empty when a run settled nowhere or a graph has no edges, and counts every piped stable point' {
        $short = Points $Gru | Get-RnnFixedPointGraph -Model $Gru -MaxSteps 5 -WarningAction SilentlyContinue
        $c = Compare-RnnFixedPointGraph $BundledEdges $short -WarningVariable warned -WarningAction SilentlyContinue
        $c.Isomorphic | Should -BeNullOrEmpty
        $c.MatchedBy | Should -Be 'Unsettled'
        "$warned" | Should -BeLike '*reached no piped stable point*'
        $c.DifferenceStableCount | Should -Be 8
        $none = Compare-RnnFixedPointGraph $BundledEdges @() -WarningAction SilentlyContinue
        $none.Isomorphic | Should -BeNullOrEmpty
        $none.MatchedBy | Should -Be 'NoEdges'
        # A memory no saddle leads to still counts: one stable point fewer piped is a different graph.
        $fewer = $BundledPoints | Where-Object Index -ne ($BundledPoints | Where-Object Kind -eq Stable | Select-Object -First 1).Index |
            Get-RnnFixedPointGraph -Model $Bundled -WarningAction SilentlyContinue
        (Compare-RnnFixedPointGraph $BundledEdges $fewer -WarningAction SilentlyContinue).Isomorphic | Should -Not -BeTrue
    }

    It 'decides by counts when the saddles of some index differ, even where runs settled nowhere' {
        function Copy-Edge($e, $outcome) {
            [RnnLinearization.RnnFixedPointEdge]@{ From = $e.From; FromKind = $e.FromKind; FromUnstableCount = $e.FromUnstableCount; Mode = $e.Mode; Direction = $e.Direction
                To = $(if ($outcome -eq 'Settled') { $e.To } else { $null }); Outcome = $outcome; Steps = $e.Steps; StablePoints = $e.StablePoints; ToOutput = $e.ToOutput }
        }
        $saddles = @($BundledEdges | Where-Object FromUnstableCount -eq 1 | ForEach-Object From | Sort-Object -Unique)
        # One index-1 saddle fewer, and one run of another that settled nowhere.
        $fewer = @($BundledEdges | Where-Object From -ne $saddles[0] | ForEach-Object { Copy-Edge $_ $(if ($_.From -eq $saddles[1] -and $_.Direction -eq 1) { 'NotSettled' } else { 'Settled' }) })
        $c = Compare-RnnFixedPointGraph $BundledEdges $fewer -WarningVariable warned -WarningAction SilentlyContinue
        $c.Isomorphic | Should -BeFalse
        $c.MatchedBy | Should -Be 'Counts'
    }

    It 'says no matching exists (None, not Counts) when the counts agree but the saddles reach fewer stable points' {
        # Every run that reached one memory is sent to another: as many saddles of each index, one memory unreached.
        $stable = @($BundledEdges | Where-Object Outcome -eq Settled | ForEach-Object To | Sort-Object -Unique)
        $moved = foreach ($e in $BundledEdges) {
            [RnnLinearization.RnnFixedPointEdge]@{ From = $e.From; FromKind = $e.FromKind; FromUnstableCount = $e.FromUnstableCount; Mode = $e.Mode; Direction = $e.Direction
                To = $(if ($e.To -eq $stable[0]) { $stable[1] } else { $e.To }); Outcome = $e.Outcome; Steps = $e.Steps; StablePoints = $e.StablePoints }
        }
        $c = Compare-RnnFixedPointGraph $BundledEdges $moved
        $c.ReferenceSaddles | Should -Be $c.DifferenceSaddles
        $c.ReferenceStableCount | Should -Be $c.DifferenceStableCount
        $c.Isomorphic | Should -BeFalse
        $c.MatchedBy | Should -Be 'None'
    }

    It 'warns when the piped points are not fixed points of -Model (found with another model)' {
        $other = New-RnnModel -InputSize 3 -HiddenSize $Bundled.HiddenSize -Seed 3
        $null = $BundledPoints | Get-RnnFixedPointGraph -Model $other -MaxSteps 50 -WarningVariable warned -WarningAction SilentlyContinue
        "$warned" | Should -BeLike '*are not fixed points of this model*'
        $null = $BundledPoints | Get-RnnFixedPointGraph -Model $Bundled -MaxSteps 50 -WarningVariable right -WarningAction SilentlyContinue
        "$right" | Should -Not -BeLike '*are not fixed points of this model*'
    }

    It 'matches by structure when the networks have no readout' {
        $noOutput = foreach ($e in $GruEdges) {
            [RnnLinearization.RnnFixedPointEdge]@{ From = $e.From; FromKind = $e.FromKind; FromUnstableCount = $e.FromUnstableCount; Mode = $e.Mode; Direction = $e.Direction; To = $e.To; Outcome = $e.Outcome; Steps = $e.Steps; StablePoints = $e.StablePoints }
        }
        $c = Compare-RnnFixedPointGraph $BundledEdges $noOutput
        $c.Isomorphic | Should -BeTrue
        $c.MatchedBy | Should -Be 'Structure'
    }
}
