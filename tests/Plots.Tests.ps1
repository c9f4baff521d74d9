BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Model = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
    $script:Inputs = foreach ($t in 1..120) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * ($t % 50 -eq 0) }; , $x }
    $script:Traj = Get-RnnTrajectory -Model $Model -InputSequence $Inputs
    # Fresh objects to add properties to: Add-Member on a copy of a .NET object's wrapper changes the shared object.
    function script:New-Trajectory { Get-RnnTrajectory -Model $Model -InputSequence $Inputs }
    function script:New-FixedPoints { $Traj | Find-RnnFixedPoint -Model $Model -Count 256 -Noise 0.5 -Seed 1 }
    $script:Fps = $Traj | Find-RnnFixedPoint -Model $Model -Count 256 -Noise 0.5 -Seed 1
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "rnnplot-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Dir | Out-Null

    # The PNG signature, and the width and height in its IHDR chunk (big-endian, bytes 16 to 23).
    function Assert-Png([string] $Path, [int] $Width, [int] $Height) {
        $bytes = [IO.File]::ReadAllBytes($Path)
        $bytes[0..7] | Should -Be @(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)
        [Text.Encoding]::ASCII.GetString($bytes, 12, 4) | Should -Be 'IHDR'
        $w = ([int]$bytes[16] -shl 24) -bor ([int]$bytes[17] -shl 16) -bor ([int]$bytes[18] -shl 8) -bor $bytes[19]
        $h = ([int]$bytes[20] -shl 24) -bor ([int]$bytes[21] -shl 16) -bor ([int]$bytes[22] -shl 8) -bor $bytes[23]
        $w | Should -Be $Width
        $h | Should -Be $Height
        $bytes.Length | Should -BeGreaterThan 10000 -Because 'a drawn picture is more than a blank canvas'
    }

    # Marks drawn as ellipses (markers, circles), counted in the parsed SVG.
    function Get-SvgEllipses([string] $Path) {
        $svg = [xml](Get-Content $Path -Raw)
        $ns = [Xml.XmlNamespaceManager]::new($svg.NameTable)
        $ns.AddNamespace('s', 'http://www.w3.org/2000/svg')
        @($svg.SelectNodes('//s:ellipse', $ns))
    }

    function Get-VerboseKind([scriptblock] $Draw) {
        $messages = & $Draw 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        if (("$messages") -match 'Drawing (\w+)') { $Matches[1] }
    }
}

AfterAll { Remove-Item $Dir -Recurse -Force -ErrorAction Ignore }

Describe 'Export-RnnPlot draws each kind' {
    It 'Spectrum: a PNG of the requested size' {
        $file = $Traj[10], $Traj[-1] | Get-RnnEigen -Model $Model -NoEigenvectors | Export-RnnPlot (Join-Path $Dir 'spectrum.png') -Width 640 -Height 480 -PassThru
        $file | Should -BeOfType [IO.FileInfo]
        Assert-Png $file.FullName 640 480
    }

    It 'Spectrum: an SVG with one mark per eigenvalue, one per legend entry and the unit circle' {
        $path = Join-Path $Dir 'spectrum.svg'
        $eigen = $Traj[10], $Traj[-1] | Get-RnnEigen -Model $Model -NoEigenvectors
        $eigen | Export-RnnPlot $path
        $count = ($eigen | ForEach-Object { $_.Eigenvalues.Count } | Measure-Object -Sum).Sum
        $count | Should -Be (2 * $Model.StateSize)
        (Get-SvgEllipses $path).Count | Should -Be ($count + 2 + 1)
    }

    It 'FixedPoints: one mark per fixed point (filled or hollow) and one per legend entry' {
        $path = Join-Path $Dir 'fixed.svg'
        $Fps | Export-RnnPlot $path
        $kinds = @($Fps | Group-Object IsStable).Count
        (Get-SvgEllipses $path).Count | Should -Be ($Fps.Count + $kinds)
        $Fps | Export-RnnPlot (Join-Path $Dir 'fixed.png')
        Assert-Png (Join-Path $Dir 'fixed.png') 800 600
    }

    It 'FixedPoints over trajectories, FlowField with trajectory and points, Trajectory and Timescales: PNGs' {
        @($Traj) + @($Fps) | Export-RnnPlot (Join-Path $Dir 'fixed-traj.png')
        @($Traj | Get-RnnFlowField -Model $Model -GridSize 12) + @($Traj) + @($Fps) | Export-RnnPlot (Join-Path $Dir 'flow.png')
        $Traj | Export-RnnPlot (Join-Path $Dir 'traj.png')
        $Traj | Get-RnnEigen -Model $Model -NoEigenvectors | Export-RnnPlot (Join-Path $Dir 'timescales.png')
        foreach ($name in 'fixed-traj', 'flow', 'traj', 'timescales') { Assert-Png (Join-Path $Dir "$name.png") 800 600 }
    }

    It 'FlowField: an SVG that parses, one arrow per grid point' {
        $path = Join-Path $Dir 'flow.svg'
        $flow = $Traj | Get-RnnFlowField -Model $Model -GridSize 6
        $flow | Export-RnnPlot $path
        $svg = [xml](Get-Content $path -Raw)
        $svg.svg.width | Should -Be '800'
        # Each arrow is one filled path in its speed colour; the axes and grid are unfilled paths.
        $ns = [Xml.XmlNamespaceManager]::new($svg.NameTable)
        $ns.AddNamespace('s', 'http://www.w3.org/2000/svg')
        $arrows = @($svg.SelectNodes('//s:g//s:path', $ns) | Where-Object { $_.fill -and $_.fill -ne 'none' })
        $arrows.Count | Should -Be 36
    }

    It 'infers the kind from what was piped' {
        Get-VerboseKind { $Fps | Export-RnnPlot (Join-Path $Dir 'k1.png') -Verbose } | Should -Be 'FixedPoints'
        Get-VerboseKind { $Traj | Export-RnnPlot (Join-Path $Dir 'k2.png') -Verbose } | Should -Be 'Trajectory'
        Get-VerboseKind { $Traj[0..2] | Get-RnnEigen -Model $Model | Export-RnnPlot (Join-Path $Dir 'k3.png') -Verbose } | Should -Be 'Spectrum'
        Get-VerboseKind { $Traj[0..8] | Get-RnnEigen -Model $Model | Export-RnnPlot (Join-Path $Dir 'k4.png') -Verbose } | Should -Be 'Timescales'
        Get-VerboseKind { $Traj | Get-RnnFlowField -Model $Model -GridSize 3 | Export-RnnPlot (Join-Path $Dir 'k5.png') -Verbose } | Should -Be 'FlowField'
        Get-VerboseKind { $Fps | Export-RnnPlot (Join-Path $Dir 'k6.png') -Kind Spectrum -Verbose } | Should -Be 'Spectrum'
        Get-VerboseKind { $Traj[0] | Get-RnnEigen -Model $Model -PerMode | Export-RnnPlot (Join-Path $Dir 'k7.png') -Verbose } | Should -Be 'Spectrum'
    }

    It 'leaves no temporary file beside the picture' {
        @(Get-ChildItem $Dir -Force -Filter '*.partial').Count | Should -Be 0
    }
}

Describe 'Export-RnnPlot refuses what it cannot draw' {
    It 'names an unknown extension' {
        { $Fps | Export-RnnPlot (Join-Path $Dir 'x.jpg') } | Should -Throw -ErrorId 'PlotExtension,RnnLinearization.ExportRnnPlotCommand'
        Test-Path (Join-Path $Dir 'x.jpg') | Should -BeFalse
    }

    It 'says what a kind needs when it was not piped' {
        { $Traj | Export-RnnPlot (Join-Path $Dir 'x.png') -Kind FlowField } | Should -Throw -ErrorId 'PlotInputMissing,RnnLinearization.ExportRnnPlotCommand'
    }

    It 'writes an error for an object it does not draw, and draws the rest' {
        $path = Join-Path $Dir 'mixed.png'
        $out = @($Fps) + @([pscustomobject]@{ A = 1 }) | Export-RnnPlot $path -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'UnsupportedPlotInput,RnnLinearization.ExportRnnPlotCommand'
        Test-Path $path | Should -BeTrue
    }

    It 'keeps an existing file with -NoClobber' {
        $path = Join-Path $Dir 'keep.png'
        Set-Content $path 'old'
        { $Fps | Export-RnnPlot $path -NoClobber } | Should -Throw -ErrorId 'PlotFileExists,RnnLinearization.ExportRnnPlotCommand'
        Get-Content $path | Should -Be 'old'
    }

    It 'says there is nothing to draw' {
        { @() | Export-RnnPlot (Join-Path $Dir 'none.png') } | Should -Throw -ErrorId 'NoPlotData,RnnLinearization.ExportRnnPlotCommand'
    }

    It 'refuses a size out of range' {
        { $Fps | Export-RnnPlot (Join-Path $Dir 'big.png') -Width 20000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,RnnLinearization.ExportRnnPlotCommand'
    }
}

Describe 'UnstableModes of a fixed point' {
    It 'span an invariant subspace of the Jacobian: J v stays in their span (closed-form check)' {
        $saddles = @($Fps | Where-Object UnstableCount -gt 0)
        $saddles.Count | Should -BeGreaterThan 0
        foreach ($p in $saddles) {
            $p.UnstableModes.Count | Should -Be $p.UnstableCount
            $jac = Get-RnnJacobian -Model $Model -Input $p.Input -State $p.State
            # An orthonormal basis of the modes (Gram-Schmidt), then the part of J v outside it.
            $basis = [Collections.Generic.List[double[]]]::new()
            foreach ($v in $p.UnstableModes) {
                [math]::Sqrt(($v | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum) | Should -BeGreaterThan 0.999999
                $w = [double[]]$v.Clone()
                foreach ($b in $basis) { $d = 0.0; for ($i = 0; $i -lt $w.Length; $i++) { $d += $w[$i] * $b[$i] }; for ($i = 0; $i -lt $w.Length; $i++) { $w[$i] -= $d * $b[$i] } }
                $n = [math]::Sqrt(($w | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
                $basis.Add([double[]]($w | ForEach-Object { $_ / $n }))
            }
            foreach ($v in $p.UnstableModes) {
                $jv = [double[]]::new($v.Length)
                for ($i = 0; $i -lt $v.Length; $i++) { for ($j = 0; $j -lt $v.Length; $j++) { $jv[$i] += $jac.StateJacobian[$i][$j] * $v[$j] } }
                $norm = [math]::Sqrt(($jv | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
                foreach ($b in $basis) { $d = 0.0; for ($i = 0; $i -lt $jv.Length; $i++) { $d += $jv[$i] * $b[$i] }; for ($i = 0; $i -lt $jv.Length; $i++) { $jv[$i] -= $d * $b[$i] } }
                [math]::Sqrt(($jv | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum) | Should -BeLessThan (1e-9 * $norm)
            }
        }
        @($Fps | Where-Object IsStable | Where-Object { $_.UnstableModes.Count -ne 0 }).Count | Should -Be 0
    }

    It 'is left out of Export-RnnResult without a warning (a different count per point)' {
        $path = Join-Path $Dir 'fps.npz'
        $Fps | Export-RnnResult $path -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -BeNullOrEmpty
        Test-Path $path | Should -BeTrue
    }
}

Describe 'Export-RnnPlot for figures and several runs' {
    BeforeAll {
        function Get-SvgTexts([string] $Path) {
            $svg = [xml](Get-Content $Path -Raw)
            $ns = [Xml.XmlNamespaceManager]::new($svg.NameTable)
            $ns.AddNamespace('s', 'http://www.w3.org/2000/svg')
            @($svg.SelectNodes('//s:text', $ns))
        }
    }

    It 'scales text with -Scale, at the size asked for' {
        $one = Join-Path $Dir 'scale1.svg'
        $three = Join-Path $Dir 'scale3.svg'
        $Fps | Export-RnnPlot $one
        $Fps | Export-RnnPlot $three -Width 2400 -Height 1800 -Scale 3
        # ScottPlot writes scaled text as a transform: the title's is matrix(3 0 0 3 x y) at -Scale 3, none at 1.
        $title = { param($p) Get-SvgTexts $p | Where-Object { $_.InnerText.Trim() -like '*fixed points*' } | Select-Object -First 1 }
        (& $title $three).transform | Should -Match '^matrix\(3 0 0 3 '
        (& $title $one).transform | Should -Not -Match 'matrix\(3 0 0 3 '
        $png = Join-Path $Dir 'paper.png'
        $Fps | Export-RnnPlot $png -Width 2400 -Height 1800 -Scale 3
        Assert-Png $png 2400 1800
        { $Fps | Export-RnnPlot (Join-Path $Dir 'bad-scale.png') -Scale 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,RnnLinearization.ExportRnnPlotCommand'
    }

    It 'says the input in the title, and counts one fixed point as one' {
        $one = @($Fps | Where-Object IsStable)[0]
        $path = Join-Path $Dir 'one-point.svg'
        $one | Export-RnnPlot $path -Kind FixedPoints
        $title = (Get-SvgTexts $path | Where-Object { $_.InnerText -like '*fixed point*' }).InnerText.Trim()
        $title | Should -Be '1 fixed point (1 stable) at input (0, 0, 0)'
    }

    It 'promises unstable modes in the flow field''s legend only where it draws them' {
        $path = Join-Path $Dir 'flow-legend.svg'
        @($Traj | Get-RnnFlowField -Model $Model -GridSize 6) + @($Fps) | Export-RnnPlot $path
        $texts = (Get-SvgTexts $path).InnerText | ForEach-Object { $_.Trim() }
        $texts | Should -Contain 'unstable'
        $texts | Should -Not -Contain 'unstable (with its unstable modes)'
    }

    It 'draws the spectra of several trajectories (-PerMode rows) as separate runs, counting every state' {
        $second = Get-RnnTrajectory -Model $Model -InputSequence ($Traj | Select-Object -First 40 | ForEach-Object { , $_.Input })
        $path = Join-Path $Dir 'runs.svg'
        @($Traj | Select-Object -First 40) + @($second) | Get-RnnEigen -Model $Model -PerMode | Export-RnnPlot $path -Kind Timescales
        $title = (Get-SvgTexts $path | Where-Object { $_.InnerText.Trim() -clike 'Spectral radius and*' }).InnerText.Trim()
        $title | Should -Be 'Spectral radius and slowest time constant at 80 states (2 runs)'
    }

    It 'says so when the folder to write into does not exist' {
        $missing = Join-Path $Dir 'no-such-folder/picture.png'
        { $Fps | Export-RnnPlot $missing } | Should -Throw -ErrorId 'OutputFolderNotFound,RnnLinearization.ExportRnnPlotCommand'
        { $Traj | Export-RnnState (Join-Path $Dir 'no-such-folder/states.npy') } | Should -Throw -ErrorId 'OutputFolderNotFound,RnnLinearization.ExportRnnStateCommand'
        { $Fps | Export-RnnResult (Join-Path $Dir 'no-such-folder/points.npz') } | Should -Throw -ErrorId 'OutputFolderNotFound,RnnLinearization.ExportRnnResultCommand'
    }
}

Describe 'Export-RnnPlot -ColorBy and -Axes' {
    BeforeAll {
        function script:Get-SvgText([string] $Path) { Get-Content $Path -Raw }
    }

    It 'colours each trial of an input file apart, with one legend entry per trial' {
        $states = Get-RnnTrajectory -Model $Model -InputFile (Join-Path $script:Fixtures 'trials/trials.npy')
        $trials = @($states | ForEach-Object Trial | Sort-Object -Unique)
        $trials.Count | Should -BeGreaterThan 1
        $path = Join-Path $Dir 'trials.svg'
        $states | Export-RnnPlot $path -ColorBy Trial
        $text = Get-SvgText $path
        foreach ($t in $trials) { $text | Should -BeLike "*trial $t*" }
        $default = Join-Path $Dir 'trials-default.svg'
        $states | Export-RnnPlot $default
        Get-SvgText $default | Should -Not -BeLike '*trial 0*'
    }

    It 'colours fixed points by the input they were found at' {
        $shifted = $Traj | Find-RnnFixedPoint -Model $Model -Count 128 -Noise 0.5 -Seed 1 -Input 0.2, 0, 0 -WarningAction SilentlyContinue
        $path = Join-Path $Dir 'inputs.svg'
        @($Fps) + @($shifted) | Export-RnnPlot $path -ColorBy Input
        $text = Get-SvgText $path
        $text | Should -BeLike '*input (0, 0, 0)*'
        $text | Should -BeLike '*input (0.2, 0, 0)*'
    }

    It 'projects on given axes, and refuses axes of the wrong length or parallel ones (InvalidAxes)' {
        $c = (Get-RnnJacobian -Model $Model -State $Traj[-1].State).OutputJacobian
        $path = Join-Path $Dir 'axes.svg'
        @($Traj) + @($Fps) | Export-RnnPlot $path -Axes $c[0], $c[1]
        Get-SvgText $path | Should -BeLike '*axis 2 (orthogonalised)*'
        { $Fps | Export-RnnPlot (Join-Path $Dir 'bad.svg') -Axes ([double[]](1, 2, 3)), ([double[]](3, 2, 1)) -ErrorAction Stop } | Should -Throw -ErrorId 'StateLengthMismatch*'
        { $Fps | Export-RnnPlot (Join-Path $Dir 'bad.svg') -Axes $c[0], $c[0] -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidAxes*'
    }

    It 'colours trials by a condition of the user''s own, one legend entry per condition' {
        $states = Get-RnnTrajectory -Model $Model -InputFile (Join-Path $script:Fixtures 'trials/trials.npy') |
            ForEach-Object { $_ | Add-Member -NotePropertyName Condition -NotePropertyValue $(if ($_.Trial % 2) { 'odd' } else { 'even' }) -PassThru }
        $path = Join-Path $Dir 'conditions.svg'
        $states | Export-RnnPlot $path -ColorBy Condition -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -BeNullOrEmpty
        $text = Get-SvgText $path
        $text | Should -BeLike '*Condition even*'
        $text | Should -BeLike '*Condition odd*'
        $text | Should -Not -BeLike '*Condition none*'
    }

    It 'draws more than ten numeric groups along a colour bar labelled with the property, with axes and every line' {
        # 11 groups of consecutive states: each group a trajectory of its own, coloured by value (a blank picture before).
        $i = 0
        $states = New-Trajectory | ForEach-Object { $_ | Add-Member -NotePropertyName Block -NotePropertyValue ([int][math]::Floor(($i++) * 11 / $Traj.Count)) -PassThru }
        $path = Join-Path $Dir 'blocks.svg'
        $states | Export-RnnPlot $path -ColorBy Block
        $text = Get-SvgText $path
        $text | Should -BeLike '*Block*' -Because 'the colour bar is labelled with the property'
        $text | Should -BeLike '*PC 1*' -Because 'the axes are drawn'
        $colours = [regex]::Matches($text, 'stroke="(#[0-9A-Fa-f]{6})') | ForEach-Object { $_.Groups[1].Value.ToUpperInvariant() } | Sort-Object -Unique
        $colours.Count | Should -BeGreaterOrEqual 11 -Because 'each of the 11 groups has its own colour along the bar'
        $png = Join-Path $Dir 'blocks.png'
        $states | Export-RnnPlot $png -ColorBy Block
        (Get-Item $png).Length | Should -BeGreaterThan 20KB -Because 'a picture with lines and axes, not a blank one'
    }

    It 'gives a trajectory and a fixed point of the same group the same colour, and each group one legend entry' {
        $fresh = New-Trajectory
        $a = $fresh | Select-Object -First 100 | ForEach-Object { $_ | Add-Member -NotePropertyName Condition -NotePropertyValue 'a' -PassThru }
        $b = $fresh | Select-Object -Skip 100 | ForEach-Object { $_ | Add-Member -NotePropertyName Condition -NotePropertyValue 'b' -PassThru }
        $pointsB = New-FixedPoints | ForEach-Object { $_ | Add-Member -NotePropertyName Condition -NotePropertyValue 'b' -PassThru }
        $path = Join-Path $Dir 'shared.svg'
        @($a) + @($b) + @($pointsB) | Export-RnnPlot $path -ColorBy Condition
        $text = Get-SvgText $path
        ([regex]::Matches($text, 'Condition b')).Count | Should -Be 1 -Because 'one legend entry per group, not one per kind'
        # The palette's first colour for a, its second for b: b's points are not drawn in a's colour.
        $palette = [ScottPlot.Palettes.Category10]::new()
        $first = $palette.GetColor(0).ToHex().Substring(0, 7).ToUpperInvariant()
        $second = $palette.GetColor(1).ToHex().Substring(0, 7).ToUpperInvariant()
        $fills = [regex]::Matches($text, 'fill="(#[0-9A-Fa-f]{6})') | ForEach-Object { $_.Groups[1].Value.ToUpperInvariant() } | Sort-Object -Unique
        $fills | Should -Contain $second
        $fills | Should -Not -Contain $first
    }

    It 'refuses a zero second axis as zero, not as parallel (InvalidAxes)' {
        $c = (Get-RnnJacobian -Model $Model -State $Traj[-1].State).OutputJacobian
        $zero = [double[]]::new($Model.StateSize)
        { $Traj | Export-RnnPlot (Join-Path $Dir 'zero.svg') -Axes $c[0], $zero -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidAxes*' -ExpectedMessage '*second axis is zero*'
    }

    It 'draws time constants in the model''s time unit when it has a Dt' {
        $timed = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt') -Dt 0.01
        $path = Join-Path $Dir 'timescales-dt.svg'
        $Traj | Get-RnnEigen -Model $timed -NoEigenvectors | Export-RnnPlot $path -Kind Timescales
        Get-SvgText $path | Should -BeLike '*time units; Dt = 0.01*'
        $steps = Join-Path $Dir 'timescales-steps.svg'
        $Traj | Get-RnnEigen -Model $Model -NoEigenvectors | Export-RnnPlot $steps -Kind Timescales
        Get-SvgText $steps | Should -BeLike '*slowest time constant (steps)*'
    }

    It 'warns when -ColorBy or -Axes have nothing to act on' {
        $Traj | Get-RnnEigen -Model $Model -NoEigenvectors | Select-Object -First 3 | Export-RnnPlot (Join-Path $Dir 'spectra.svg') -ColorBy Trial -WarningVariable warned -WarningAction SilentlyContinue
        "$warned" | Should -BeLike '*-ColorBy Trial*'
        $Traj | Export-RnnPlot (Join-Path $Dir 'nothing.svg') -ColorBy Condition -WarningVariable warned2 -WarningAction SilentlyContinue
        "$warned2" | Should -BeLike '*none here has one*'
    }
}
