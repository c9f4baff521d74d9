<#
.SYNOPSIS
    The Bench's rows for spectra at scale (issue 23): Get-RnnEigen -Top 10 (the modes nearest 1; and the largest)
    against the full decomposition, and both against bare LAPACK (numpy's geev) and ARPACK (scipy.sparse.linalg.eigs,
    shift-invert about 1 and largest magnitude; bench/bench_eig.py) on the same Jacobians, one thread on every side: the 256-unit flip-flop (bench/flipflop256.pt) at states of its trajectory,
    and a random 1,024-unit nn.RNN. Seconds per state, each the best of three runs over the states. Runs alone too:
        dotnet pwsh bench/Invoke-TopModesBenchmark.ps1 -ModulePath out/RnnLinearization/RnnLinearization.psd1 -OutDir out/bench
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $OutDir = (Join-Path $PSScriptRoot '../out/bench')
)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory $OutDir -Force | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$env:OPENBLAS_NUM_THREADS = '1'
Import-Module (Resolve-Path $ModulePath).Path -Force
$threads = (Get-RnnConfiguration).ThreadCount
Set-RnnConfiguration -ThreadCount 1
try {
    $pulses = foreach ($t in 1..200) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * ($t % 50 -eq 0) }; , $x }
    $m256 = Import-RnnModel (Join-Path $PSScriptRoot 'flipflop256.pt') -WarningAction SilentlyContinue
    $m1024 = New-RnnModel -InputSize 3 -HiddenSize 1024 -Seed 3
    $sets = @(
        @{ Hidden = 256; Model = $m256; States = @(Get-RnnTrajectory -Model $m256 -InputSequence $pulses | Select-Object -Skip 20 | Select-Object -First 12) }
        @{ Hidden = 1024; Model = $m1024; States = @(1..3 | ForEach-Object { $k = $_; [pscustomobject]@{ State = [double[]](1..1024 | ForEach-Object { 0.5 * [math]::Sin($k * $_) }) } }) }
    )
    $best = { param($body, $n) (1..3 | ForEach-Object { (Measure-Command $body).TotalSeconds / $n } | Measure-Object -Minimum).Minimum }
    foreach ($set in $sets) {
        $jacobians = @($set.States | Get-RnnJacobian -Model $set.Model)
        $set.Jacobians = $jacobians
        $file = Join-Path $OutDir "jacobians_h$($set.Hidden).npy"
        Remove-Item $file -ErrorAction SilentlyContinue
        $jacobians | ForEach-Object { $_.StateJacobian } | ForEach-Object { [pscustomobject]@{ State = $_ } } | Export-RnnState $file -WarningAction SilentlyContinue
    }
    & /usr/bin/python3 (Join-Path $PSScriptRoot 'bench_eig.py') --dir $OutDir --sizes '256,1024'
    if ($LASTEXITCODE -ne 0) { throw "bench_eig.py failed (exit code $LASTEXITCODE)." }
    $lapack = Get-Content (Join-Path $OutDir 'eig_reference.json') -Raw | ConvertFrom-Json
    $rows = foreach ($set in $sets) {
        $j = $set.Jacobians
        $n = $j.Count
        $null = $j[0] | Get-RnnEigen -Top 10   # warm-up
        [pscustomobject]@{
            Hidden = $set.Hidden; States = $n
            LapackEig = $lapack."$($set.Hidden)".eig_seconds
            LapackEigvals = $lapack."$($set.Hidden)".eigvals_seconds
            ArpackNearOne = $lapack."$($set.Hidden)".arpack_near_one_seconds
            ArpackMagnitude = $lapack."$($set.Hidden)".arpack_magnitude_seconds
            ArpackFailed = $lapack."$($set.Hidden)".arpack_near_one_failed + $lapack."$($set.Hidden)".arpack_magnitude_failed
            CmdletEig = & $best { $null = $j | Get-RnnEigen } $n
            CmdletEigvals = & $best { $null = $j | Get-RnnEigen -NoEigenvectors } $n
            Top10 = & $best { $null = $j | Get-RnnEigen -Top 10 } $n
            Top10Values = & $best { $null = $j | Get-RnnEigen -Top 10 -NoEigenvectors } $n
            Top10ByMagnitude = & $best { $null = $j | Get-RnnEigen -Top 10 -ByMagnitude } $n
            # Full where the search did not converge within its budget and the full decomposition was taken.
            ByMagnitudeMethod = ($j | Get-RnnEigen -Top 10 -ByMagnitude -WarningAction SilentlyContinue | ForEach-Object Method | Sort-Object -Unique) -join ', '
        }
    }
}
finally { Set-RnnConfiguration -ThreadCount $threads }

$ms = { param($s) '{0:N1}' -f (1000 * $s) }
Write-Host "`nSpectra per state (ms), one thread, numpy $($lapack.numpy) for LAPACK; -Top 10 against the full decomposition:" -ForegroundColor Cyan
$rows | Format-Table Hidden, States, @{ n = 'LAPACK eig'; e = { & $ms $_.LapackEig } }, @{ n = 'LAPACK eigvals'; e = { & $ms $_.LapackEigvals } },
    @{ n = 'Cmdlet eig'; e = { & $ms $_.CmdletEig } }, @{ n = 'Cmdlet eigvals'; e = { & $ms $_.CmdletEigvals } },
    @{ n = '-Top 10'; e = { & $ms $_.Top10 } }, @{ n = 'eig / -Top 10'; e = { '{0:N1}x' -f ($_.CmdletEig / $_.Top10) } },
    @{ n = 'eigvals / -Top 10 values'; e = { '{0:N1}x' -f ($_.CmdletEigvals / $_.Top10Values) } },
    @{ n = '-Top 10 -ByMagnitude'; e = { & $ms $_.Top10ByMagnitude } } -AutoSize | Out-String -Width 220 | Write-Host
if ($null -eq $lapack.scipy) { Write-Host 'No ARPACK columns: scipy is missing (apt-get install python3-scipy, or run the Bench task, which installs it).' -ForegroundColor Yellow }
else {
    Write-Host "The same against ARPACK (scipy $($lapack.scipy) eigs, k = 10, tol 1e-13 as the module's), ms per state; above 1x the cmdlet is faster:" -ForegroundColor Cyan
    $rows | Format-Table Hidden, @{ n = 'ARPACK nearest 1'; e = { & $ms $_.ArpackNearOne } }, @{ n = '-Top 10'; e = { & $ms $_.Top10 } },
        @{ n = 'ARPACK / -Top 10'; e = { '{0:N2}x' -f ($_.ArpackNearOne / $_.Top10) } },
        @{ n = 'ARPACK by magnitude'; e = { & $ms $_.ArpackMagnitude } }, @{ n = '-Top 10 -ByMagnitude'; e = { & $ms $_.Top10ByMagnitude } },
        @{ n = 'ARPACK / -ByMagnitude'; e = { '{0:N2}x' -f ($_.ArpackMagnitude / $_.Top10ByMagnitude) } }, @{ n = 'Method by magnitude'; e = { $_.ByMagnitudeMethod } }, @{ n = 'ARPACK not converged'; e = { $_.ArpackFailed } } -AutoSize | Out-String -Width 220 | Write-Host
}
$rows
