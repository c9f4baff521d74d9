# The package installs the way users install modules: PSResourceGet from a repository (here a local folder), then
# Import-Module by name in a fresh pwsh.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $version = (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../RnnLinearization.psd1')).ModuleVersion
    $script:Package = Join-Path $PSScriptRoot "../out/RnnLinearization.$version.nupkg"
    $script:Version = $version
    $script:Repository = "RnnLinearizationTest-$PID"
}

AfterAll { Unregister-PSResourceRepository -Name $Repository -ErrorAction Ignore }

Describe 'The .nupkg made by ./build.ps1 -Task Package' {
    It 'exists (the Test task makes it before the tests)' {
        Test-Path $Package | Should -BeTrue -Because 'run ./build.ps1 -Task Package (the Test task does) before these tests'
    }

    It 'installs with Save-PSResource from a repository and runs an analysis after Import-Module by name in a fresh pwsh' {
        $feed = Join-Path $TestDrive 'feed'
        $modules = Join-Path $TestDrive 'modules'
        New-Item -ItemType Directory $feed, $modules | Out-Null
        Copy-Item $Package $feed
        Register-PSResourceRepository -Name $Repository -Uri $feed -Trusted
        $found = Find-PSResource -Name RnnLinearization -Repository $Repository
        $found.Version.ToString() | Should -Be $Version
        Save-PSResource -Name RnnLinearization -Repository $Repository -Path $modules -TrustRepository
        Test-Path (Join-Path $modules "RnnLinearization/$Version/RnnLinearization.psd1") | Should -BeTrue

        $script = @'
$ErrorActionPreference = 'Stop'
$env:PSModulePath = $args[0] + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module RnnLinearization
$module = Get-Module RnnLinearization
$m = Import-RnnModel (Join-Path $module.ModuleBase 'examples/flipflop_rnn.pt')
$e = Get-RnnEigen -Model $m -State ([double[]]::new($m.StateSize)) -NoEigenvectors
$help = Get-Help Get-RnnEigen -Full
[pscustomobject]@{ Base = $module.ModuleBase; Radius = $e.SpectralRadius; Examples = @($help.examples.example).Count; Topic = [bool](Get-Help about_RnnLinearization) } | ConvertTo-Json -Compress
'@
        $file = Join-Path $TestDrive 'use.ps1'
        Set-Content $file $script
        $output = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -File $file $modules 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
        $r = ($output | Select-Object -Last 1) | ConvertFrom-Json
        $r.Base | Should -BeLike "$modules*"
        # The same number as the built module in this process gives (the installed files are the same code).
        $m = Import-RnnModel (Join-Path $PSScriptRoot '../examples/flipflop_rnn.pt')
        $r.Radius | Should -Be (Get-RnnEigen -Model $m -State ([double[]]::new($m.StateSize)) -NoEigenvectors).SpectralRadius
        $r.Examples | Should -BeGreaterOrEqual 2
        $r.Topic | Should -BeTrue
    }
}
