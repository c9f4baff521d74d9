<#
.SYNOPSIS
    Loads every file of a real-world corpus with its manifest's Import-RnnModel command and compares next states and
    Jacobians with the corpus's PyTorch reference (tools/realworld_reference.py): the largest relative (Frobenius)
    error per file. TopModes: the largest distance of Get-RnnEigen -Top 5 (nearest 1, and -ByMagnitude) from the full
    decomposition's modes in the same order, and the methods it took. Not part of the tests: the corpus's files are
    not in the repository.
.EXAMPLE
    dotnet pwsh tools/Compare-RealWorld.ps1 -Corpus ../shared/realworld
#>
param(
    [string] $Corpus = (Join-Path $PSScriptRoot '../../shared/realworld'),
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/RnnLinearization/RnnLinearization.psd1'),
    [int] $States = 7
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
$Corpus = (Resolve-Path $Corpus).Path
$reference = Join-Path ([IO.Path]::GetTempPath()) "realworld-reference-$PID.json"
& /usr/bin/python3 (Join-Path $PSScriptRoot 'realworld_reference.py') $Corpus $reference $States | Out-Host
if ($LASTEXITCODE -ne 0) { throw 'the PyTorch reference failed' }
$records = Get-Content $reference -Raw | ConvertFrom-Json
Remove-Item $reference

function RelErr($a, $b) {
    $num = 0.0; $den = 0.0
    $x = @($a | ForEach-Object { $_ }); $y = @($b | ForEach-Object { $_ })
    for ($i = 0; $i -lt $x.Count; $i++) { $num += ($x[$i] - $y[$i]) * ($x[$i] - $y[$i]); $den += $y[$i] * $y[$i] }
    [math]::Sqrt($num) / [math]::Max([math]::Sqrt($den), 1e-300)
}
function Flat($rows) { foreach ($r in $rows) { foreach ($v in $r) { $v } } }

Push-Location $Corpus
try {
    $records | Group-Object file | ForEach-Object {
        $first = $_.Group[0]
        $model = Invoke-Expression "$($first.command) -ErrorAction Stop -WarningAction SilentlyContinue"
        $worst = [pscustomobject]@{ File = $_.Name; Model = "$($model.Architecture) $($model.InputSize)->$($model.HiddenSize) x$($model.NumLayers)"; States = 0; NextState = 0.0; StateJacobian = 0.0; InputJacobian = 0.0; TopModes = 0.0; TopMethods = @() }
        foreach ($r in $_.Group) {
            $j = Get-RnnJacobian -Model $model -State ([double[]]$r.state) -Input ([double[]]$r.input)
            $worst.States++
            $worst.NextState = [math]::Max($worst.NextState, (RelErr $j.NextState $r.next))
            $worst.StateJacobian = [math]::Max($worst.StateJacobian, (RelErr (Flat $j.StateJacobian) (Flat $r.jh)))
            $worst.InputJacobian = [math]::Max($worst.InputJacobian, (RelErr (Flat $j.InputJacobian) (Flat $r.ju)))
            $full = $j | Get-RnnEigen -NoEigenvectors
            foreach ($magnitude in $false, $true) {
                $order = if ($magnitude) { { - $_.Magnitude } } else { { [Numerics.Complex]::Abs($_ - 1) } }
                $expected = @($full.Eigenvalues | Sort-Object $order)
                $top = $j | Get-RnnEigen -Top ([math]::Min(5, $model.StateSize)) -ByMagnitude:$magnitude -NoEigenvectors -WarningAction SilentlyContinue
                $worst.TopMethods += $top.Method
                for ($i = 0; $i -lt $top.Eigenvalues.Count; $i++) {
                    # Each mode is one of the full decomposition's, and as far out (or as near 1) as the full one's i-th.
                    $nearest = ($full.Eigenvalues | ForEach-Object { [Numerics.Complex]::Abs($_ - $top.Eigenvalues[$i]) } | Measure-Object -Minimum).Minimum
                    $key = if ($magnitude) { [math]::Abs($top.Eigenvalues[$i].Magnitude - $expected[$i].Magnitude) } else { [math]::Abs([Numerics.Complex]::Abs($top.Eigenvalues[$i] - 1) - [Numerics.Complex]::Abs($expected[$i] - 1)) }
                    $worst.TopModes = [math]::Max($worst.TopModes, [math]::Max($nearest, $key))
                }
            }
        }
        $worst.TopMethods = ($worst.TopMethods | Sort-Object -Unique) -join ', '
        foreach ($k in 'NextState', 'StateJacobian', 'InputJacobian', 'TopModes') { $worst.$k = $worst.$k.ToString('0.0e0', [cultureinfo]::InvariantCulture) }
        $worst
    }
}
finally { Pop-Location }
