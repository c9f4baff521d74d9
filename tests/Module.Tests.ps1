BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }

Describe 'The built module' {
    It 'exports exactly the cmdlets the manifest lists' {
        $manifest = Import-PowerShellDataFile $script:ModulePath
        $exported = (Get-Module RnnLinearization).ExportedCmdlets.Keys | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
        $manifest.CmdletsToExport | Should -Contain 'Get-RnnJacobian'
    }

    It 'holds TorchSharp natives next to the dll' {
        $dir = Split-Path $script:ModulePath
        Test-Path (Join-Path $dir 'libLibTorchSharp.so') | Should -BeTrue
        Test-Path (Join-Path $dir 'libtorch_cpu.so') | Should -BeTrue
    }

    It 'loads libtorch and computes in a fresh pwsh process' {
        # A new process proves native loading (and, on Debian 12, the libstdc++ repair) from the module folder alone.
        $script = "Import-Module '$($script:ModulePath)'; `$m = New-RnnModel -InputSize 1 -HiddenSize 1 -Seed 5; " +
            "`$j = Get-RnnJacobian -Model `$m -Input 0 -State 0; " +
            "`$p = `$m.Parameters; `$b = `$p['bias_ih_l0'].Data[0] + `$p['bias_hh_l0'].Data[0]; " +
            "'{0:R} {1:R}' -f `$j.StateJacobian[0][0], ((1 - [math]::Pow([math]::Tanh(`$b), 2)) * `$p['weight_hh_l0'].Data[0])"
        $out = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $actual, $closedForm = ($out | Select-Object -Last 1) -split ' ' | ForEach-Object { [double]$_ }
        $closedForm | Should -Not -Be 0
        [math]::Abs($actual - $closedForm) | Should -BeLessOrEqual (1e-12 * [math]::Abs($closedForm))
    }

    It 'marks the GLIBCXX_3.4.32 requirement weak exactly when the host libstdc++ lacks it' {
        $libstdcxx = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6'
        if (-not (Test-Path $libstdcxx) -or -not (Get-Command readelf -ErrorAction Ignore)) {
            Set-ItResult -Inconclusive -Because 'needs glibc x86_64 Linux with readelf'
            return
        }
        $hostHas = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($libstdcxx)).Contains("GLIBCXX_3.4.32`0")
        $versions = readelf -V (Join-Path (Split-Path $script:ModulePath) 'libLibTorchSharp.so')
        $entry = $versions | Where-Object { $_ -match 'Name: GLIBCXX_3\.4\.32' }
        $entry | Should -Not -BeNullOrEmpty
        ($entry -match 'Flags: WEAK') | Should -Be (-not $hostHas)
    }

    It 'gives <_> help with a synopsis, an example and every parameter described' -ForEach (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../RnnLinearization.psd1')).CmdletsToExport {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*\S+ \[' -Because 'a synopsis is a sentence, not the generated syntax'
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        foreach ($p in @($help.Parameters.Parameter | Where-Object Name)) {
            ($p.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) needs a description"
        }
    }

    It 'sets and reports the thread count' {
        $before = (Get-RnnConfiguration).ThreadCount
        try {
            (Set-RnnConfiguration -ThreadCount 1 -PassThru).ThreadCount | Should -Be 1
            (Get-RnnConfiguration).ThreadCount | Should -Be 1
            { Set-RnnConfiguration -ThreadCount 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,RnnLinearization.SetRnnConfigurationCommand'
        }
        finally { Set-RnnConfiguration -ThreadCount $before }
        (Get-RnnConfiguration).ThreadCount | Should -Be $before
    }
}
