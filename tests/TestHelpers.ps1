# Shared by the Pester tests: the built module, the fixtures from real PyTorch, and numeric comparisons.
$script:ModulePath = if ($env:RNNLINEARIZATION_MODULE) { $env:RNNLINEARIZATION_MODULE } else { Join-Path $PSScriptRoot '../out/RnnLinearization/RnnLinearization.psd1' }
$script:Fixtures = Join-Path $PSScriptRoot 'fixtures'
Import-Module $script:ModulePath -Force

function Get-Fixture([string] $Name) {
    Get-Content (Join-Path $script:Fixtures "expected/$Name.json") -Raw | ConvertFrom-Json -NoEnumerate
}

function Get-FixtureModel([string] $Name, [string] $Extension = '.pt') {
    $f = Get-Fixture $Name
    $path = Join-Path $script:Fixtures "models/$Name$Extension"
    if ($f.architecture -eq 'TorchScript') { return Import-RnnModel $path -Architecture TorchScript -InputSize $f.input_size -HiddenSize $f.hidden_size }
    $leaky = if ($f.PSObject.Properties['alpha']) { @{ Architecture = 'LeakyRnn'; Alpha = $f.alpha } } else { @{} }
    Import-RnnModel $path -Nonlinearity $f.nonlinearity @leaky
}

# |actual - expected| <= rel * |expected| + abs, element by element, over nested arrays.
function Assert-Close($Expected, $Actual, [double] $Rel = 1e-10, [double] $Abs = 1e-12) {
    $e = @($Expected | ForEach-Object { $_ })
    $a = @($Actual | ForEach-Object { $_ })
    $a.Count | Should -Be $e.Count
    for ($i = 0; $i -lt $e.Count; $i++) {
        [math]::Abs([double]$a[$i] - [double]$e[$i]) | Should -BeLessOrEqual ($Rel * [math]::Abs([double]$e[$i]) + $Abs) -Because "element $i ($($a[$i]) vs $($e[$i]))"
    }
}
