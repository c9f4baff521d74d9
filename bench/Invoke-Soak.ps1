<#
.SYNOPSIS
    Soak: streams states through Jacobians, spectra, Taylor steps and fixed points, pass after pass, and checks that
    memory stays flat and that every pass gives the first pass's numbers.
.DESCRIPTION
    Each pass runs the same work on a 128-unit GRU (New-RnnModel, seeded) and -StateCount states (512): Get-RnnJacobian,
    Get-RnnEigen (with eigenvectors), Invoke-RnnLinearization -Exact, Find-RnnFixedPoint. After each pass the managed
    heap is collected and the process's resident memory is read. Memory is flat when the later half of the passes
    uses on average at most 10% (plus 64 MB) more than the earlier half, pass 1 left out (it loads code and libtorch):
    a leak grows without end, while libtorch's allocations vary by tens of MB from pass to pass.
    Results are flat when every pass's checksums equal the first pass's exactly. Writes a JSON summary and exits
    non-zero when either check fails.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [double] $Minutes = 5,
    [int] $Passes = 0,          # when given, exactly this many passes instead of a duration
    [int] $StateCount = 512,
    [string] $OutFile
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
Set-RnnConfiguration -ThreadCount 1   # one thread: libtorch sums in one order, so passes agree bit for bit

$m = New-RnnModel -Architecture Gru -InputSize 3 -HiddenSize 128 -Seed 11
$states = foreach ($k in 1..$StateCount) { [pscustomobject]@{ Index = $k; State = [double[]](1..$m.StateSize | ForEach-Object { 0.8 * [math]::Sin(0.11 * $k * $_) }) } }
$delta = , [double[]](1..$m.StateSize | ForEach-Object { 1e-3 * [math]::Cos($_) })

# One number per kind of result: sums of everything the pass produced, compared exactly between passes.
function Invoke-Pass {
    $j = 0.0; $e = 0.0; $t = 0.0; $f = 0.0
    foreach ($r in ($states | Get-RnnJacobian -Model $m)) { $j += $r.StateJacobian[7][3] + $r.NextState[0] }
    foreach ($r in ($states | Get-RnnEigen -Model $m)) { $e += $r.SpectralRadius + $r.Eigenvectors[0][1].Magnitude }
    foreach ($r in ($states | Invoke-RnnLinearization -Model $m -DeltaState $delta -Exact)) { $t += $r.ErrorNorm }
    $points = $states | Find-RnnFixedPoint -Model $m -Count 64 -Seed 2 -Noise 0.1
    foreach ($p in $points) { $f += $p.State[5] + $p.SpectralRadius }
    [pscustomobject]@{ Jacobian = $j; Eigen = $e; Taylor = $t; FixedPoints = $f; Points = @($points).Count }
}

$watch = [Diagnostics.Stopwatch]::StartNew()
$rows = [Collections.Generic.List[object]]::new()
$first = $null
while ($true) {
    $sums = Invoke-Pass
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $process = [Diagnostics.Process]::GetCurrentProcess()
    $row = [pscustomobject]@{
        Pass = $rows.Count + 1; Seconds = [math]::Round($watch.Elapsed.TotalSeconds, 1)
        ResidentMB = [math]::Round($process.WorkingSet64 / 1MB, 1); ManagedMB = [math]::Round([GC]::GetTotalMemory($false) / 1MB, 1)
        Same = $true
    }
    if (-not $first) { $first = $sums }
    else { $row.Same = ($sums | ConvertTo-Json -Compress) -eq ($first | ConvertTo-Json -Compress) }
    $rows.Add($row)
    Write-Host ("pass {0,3}  {1,7:0.0} s  resident {2,7:0.0} MB  managed {3,6:0.0} MB  same as pass 1: {4}" -f $row.Pass, $row.Seconds, $row.ResidentMB, $row.ManagedMB, $row.Same)
    if ($Passes -gt 0) { if ($rows.Count -ge $Passes) { break } }
    elseif ($watch.Elapsed.TotalMinutes -ge $Minutes -and $rows.Count -ge 4) { break }
}

$later = @($rows | Select-Object -Skip 1)
$half = [math]::Max(1, [math]::Floor($later.Count / 2))
$early = ($later | Select-Object -First $half | Measure-Object ResidentMB -Average).Average
$late = ($later | Select-Object -Last $half | Measure-Object ResidentMB -Average).Average
$summary = [pscustomobject]@{
    Passes = $rows.Count; Seconds = [math]::Round($watch.Elapsed.TotalSeconds, 1); States = $states.Count; Hidden = $m.StateSize
    EarlyResidentMB = [math]::Round($early, 1); LateResidentMB = [math]::Round($late, 1)
    MemoryFlat = $late -le 1.1 * $early + 64
    ResultsSame = -not ($rows | Where-Object { -not $_.Same })
    FixedPoints = $first.Points
    Rows = $rows
}
Write-Host ("{0} passes in {1} s: resident memory {2} MB early, {3} MB late (flat: {4}); every pass as the first: {5}" -f
    $summary.Passes, $summary.Seconds, $summary.EarlyResidentMB, $summary.LateResidentMB, $summary.MemoryFlat, $summary.ResultsSame)
if ($OutFile) {
    # Written beside and moved into place: an interrupted soak leaves the last report whole.
    $summary | ConvertTo-Json -Depth 4 | Set-Content "$OutFile.partial"
    Move-Item "$OutFile.partial" $OutFile -Force
}
if (-not ($summary.MemoryFlat -and $summary.ResultsSame)) { exit 1 }
