# Doc tests: every example in the help and every PowerShell block of the README runs, on the bundled model, without
# an error; and the help is complete (about topic, defaults, inputs, outputs, links, two examples per cmdlet).
BeforeDiscovery {
    $module = if ($env:RNNLINEARIZATION_MODULE) { $env:RNNLINEARIZATION_MODULE } else { Join-Path $PSScriptRoot '../out/RnnLinearization/RnnLinearization.psd1' }
    Import-Module $module -Force
    $script:Cmdlets = Get-Command -Module RnnLinearization | ForEach-Object { @{ Name = $_.Name } }
    $script:Examples = foreach ($c in Get-Command -Module RnnLinearization) {
        $i = 0
        foreach ($e in (Get-Help $c.Name -Full).examples.example) { $i++; @{ Name = $c.Name; Number = $i; Code = ($e.code -join "`n") } }
    }
    $readme = Get-Content (Join-Path $PSScriptRoot '../README.md') -Raw
    $script:ReadmeBlocks = [regex]::Matches($readme, '(?ms)^```powershell\r?\n(.*?)^```') | ForEach-Object -Begin { $n = 0 } -Process { $n++; @{ Number = $n; Code = $_.Groups[1].Value } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Root = Resolve-Path (Join-Path $PSScriptRoot '..')
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "rnndocs-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Work | Out-Null
    $script:Threads = (Get-RnnConfiguration).ThreadCount

    # The files the help's examples name: the bundled model, state files made from its trajectory, and stand-ins for
    # a user's own files (a leaky network with regions, a training checkpoint, a TorchScript cell), from the fixtures.
    $moduleBase = (Get-Module RnnLinearization).ModuleBase
    Copy-Item (Join-Path $moduleBase 'examples/flipflop_rnn.pt') $Work
    Copy-Item (Join-Path $Fixtures 'models/leaky_i3_h10_relu_dale.safetensors') (Join-Path $Work 'mrnn.safetensors')
    Copy-Item (Join-Path $Fixtures 'models/leaky_i3_h10_relu_dale.regions.json') (Join-Path $Work 'regions.json')
    Copy-Item (Join-Path $Fixtures 'realfiles/checkpoint_two_rnns.pt') (Join-Path $Work 'checkpoint.pt')
    Copy-Item (Join-Path $Fixtures 'models/script_lowrank_i3_h6.pt') (Join-Path $Work 'cell_scripted.pt')
    Copy-Item (Join-Path $Fixtures 'realfiles/legacy_whole_module_lstm.pt') (Join-Path $Work 'whole_model.pt')
    Copy-Item (Join-Path $Fixtures 'realfiles/mante_leaky.pth') (Join-Path $Work 'net.pth')
    Copy-Item (Join-Path $Fixtures 'realfiles/fused_xh_checkpoint.pt') (Join-Path $Work 'ctrnn.pt')
    Copy-Item (Join-Path $Fixtures 'realfiles/mrnn_elman.pth') (Join-Path $Work 'mrnn_model.pth')
    Copy-Item (Join-Path $Fixtures 'trials/trials.npy') (Join-Path $Work 'trials.npy')

    # The context every help example assumes, as about_RnnLinearization states it.
    function New-ExampleContext {
        $m = Import-RnnModel (Join-Path $Work 'flipflop_rnn.pt')
        $inputs = foreach ($t in 1..200) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * ($t % 50 -eq 0) }; , $x }
        $traj = Get-RnnTrajectory -Model $m -InputSequence $inputs
        $starts = foreach ($step in $traj) { , $step.State }
        @{ m = $m; inputs = $inputs; traj = $traj; h = $traj[-1].State; starts = $starts }
    }
    $context = New-ExampleContext
    $context.traj | Export-RnnState (Join-Path $Work 'states.npy')
    $context.traj | Export-RnnState (Join-Path $Work 'steps.csv')
    $context.traj | Export-RnnState (Join-Path $Work 'run.npz')

    # Runs code in a child scope that holds the context, in the work folder, with every error terminating.
    function Invoke-Example([string] $Code) {
        $c = New-ExampleContext
        Push-Location $Work
        try {
            & {
                param($c, $code)
                $ErrorActionPreference = 'Stop'
                $m, $inputs, $traj, $h, $starts = $c.m, $c.inputs, $c.traj, $c.h, $c.starts
                . ([scriptblock]::Create($code)) | Out-String | Out-Null
            } $c $Code
        }
        finally { Pop-Location }
    }
}

AfterAll {
    Set-RnnConfiguration -ThreadCount $Threads
    Remove-Item $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Help example <Number> of <Name> runs' -ForEach $Examples {
    It 'runs without an error' {
        { Invoke-Example $Code } | Should -Not -Throw
    }
}

Describe 'The README''s PowerShell block <Number> runs' -ForEach $ReadmeBlocks {
    It 'runs in a fresh pwsh from a folder with the built module and the examples' {
        $dir = Join-Path $Work "readme-$Number"
        New-Item -ItemType Directory (Join-Path $dir 'out') -Force | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $dir 'out/RnnLinearization') -Target (Split-Path $ModulePath) | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $dir 'examples') -Target (Join-Path $Root 'examples') | Out-Null
        $script = Join-Path $dir 'block.ps1'
        Set-Content $script ("`$ErrorActionPreference = 'Stop'`n" + $Code)
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -WorkingDirectory $dir -File $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
    }
}

Describe 'The help of <Name> is complete' -ForEach $Cmdlets {
    BeforeAll { $help = Get-Help $Name -Full }

    It 'has a synopsis, a description, inputs, outputs and related links' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
        $help.inputTypes.inputType.type.name | Should -Not -BeNullOrEmpty
        ($help.returnValues.returnValue | ForEach-Object { $_.description.Text }) -join '' | Should -Not -BeNullOrEmpty
        @($help.relatedLinks.navigationLink).Count | Should -BeGreaterThan 0
        foreach ($link in $help.relatedLinks.navigationLink.linkText) {
            ($link -like 'about_*') -or [bool](Get-Command $link -ErrorAction Ignore) | Should -BeTrue -Because "$link is a cmdlet or topic"
        }
    }

    It 'has at least two examples' {
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
    }

    It 'describes every parameter and gives its default' {
        foreach ($p in $help.parameters.parameter) {
            ($p.description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a description"
            $p.defaultValue | Should -Not -BeNullOrEmpty -Because "-$($p.name) needs a default value"
        }
    }

    It 'states defaults that match the cmdlet''s own where it has one' {
        $instance = [Activator]::CreateInstance((Get-Command $Name).ImplementingType)
        foreach ($p in $help.parameters.parameter) {
            $property = $instance.GetType().GetProperty($p.name)
            if (-not $property) { continue }   # -WhatIf and -Confirm belong to PowerShell
            $value = $property.GetValue($instance)
            if ($value -is [ValueType] -and $property.PropertyType -ne [switch] -and $p.required -ne 'true') {
                $p.defaultValue | Should -Be "$value" -Because "-$($p.name)"
            }
        }
    }

    It 'states the same default in the prose of a parameter as the cmdlet has' {
        # "(default 1e-12)" in a description is written by hand: it must say what the cmdlet does.
        $instance = [Activator]::CreateInstance((Get-Command $Name).ImplementingType)
        foreach ($p in $help.parameters.parameter) {
            $text = $p.description.Text -join ''
            $property = $instance.GetType().GetProperty($p.name)
            if (-not $property -or $text -notmatch '\(default ([0-9][0-9.,e+-]*)') { continue }
            $value = $property.GetValue($instance)
            if ($value -isnot [ValueType] -or $value -is [bool] -or $value -is [enum]) { continue }
            $stated = [double]($Matches[1].TrimEnd(',') -replace ',', '')
            [double]$value | Should -Be $stated -Because "the cmdlet's default of -$($p.name) is what its help says: '$($Matches[0])'"
        }
    }
}

Describe 'about_RnnLinearization' {
    It 'opens with Get-Help RnnLinearization as with its own name' {
        $topic = Get-Help RnnLinearization | Out-String
        $topic | Should -Match 'about_RnnLinearization'
        (Get-Help about_RnnLinearization | Out-String) | Should -Be $topic
    }

    It 'explains the terms the cmdlets use' {
        $topic = Get-Help about_RnnLinearization | Out-String
        foreach ($term in 'JACOBIAN', 'TAYLOR STEP', 'TIME CONSTANTS', 'Period', 'FIXED POINTS', 'LINE ATTRACTOR SCORE', 'STATE LAYOUTS', 'TRAJECTORY STEPS') {
            $topic | Should -Match $term
        }
    }

    It 'states the example context that the doc tests use (the same lines)' {
        $topic = Get-Help about_RnnLinearization | Out-String
        $topic | Should -Match ([regex]::Escape('$m      = Import-RnnModel ./flipflop_rnn.pt'))
        $topic | Should -Match ([regex]::Escape('$starts = foreach ($step in $traj) { , $step.State }'))
    }
}
