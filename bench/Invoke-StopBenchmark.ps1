<#
.SYNOPSIS
    The Bench's rows for Stop (what Ctrl+C does): how long Stop takes to return from long work at hidden 1,024, against
    the one-second goal. Tests only check that Stop returns well within ten seconds (a hang); the figure lives here.
    Each row starts the work in a PowerShell instance, lets it run 3 s, stops it, and times Stop. Runs alone too:
        dotnet pwsh bench/Invoke-StopBenchmark.ps1 -ModulePath out/RnnLinearization/RnnLinearization.psd1
#>
param([Parameter(Mandatory)][string] $ModulePath)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
$setup = "Import-Module '$ModulePath'; `$m = New-RnnModel -InputSize 2 -HiddenSize 1024 -Seed 3; " +
    "`$states = foreach (`$k in 1..64) { [pscustomobject]@{ State = [double[]][Linq.Enumerable]::Repeat([math]::Sin(`$k), 1024) } }; `$flag.Started = `$true; "
$work = [ordered]@{
    'Get-RnnEigen with eigenvectors' = '$states | Get-RnnEigen -Model $m | Out-Null'
    'Get-RnnJacobian' = '1..100000 | ForEach-Object { $states[0] } | Get-RnnJacobian -Model $m | Out-Null'
    'Get-RnnTrajectory' = '$x = foreach ($t in 1..2000000) { , [double[]](0, 0) }; Get-RnnTrajectory -Model $m -InputSequence $x | Out-Null'
    'Get-RnnFlowField' = '$states | Get-RnnFlowField -Model $m -GridSize 1000 | Out-Null'
    'Find-RnnFixedPoint' = '$states | Find-RnnFixedPoint -Model $m -All | Out-Null'
    'Find-RnnFixedPoint -Method Adam' = '$states | Find-RnnFixedPoint -Model $m -Method Adam -TolQ 0 -TolDq 0 -MaxIterations 1000000 -All | Out-Null'
}
$rows = foreach ($name in $work.Keys) {
    $ps = [powershell]::Create()
    try {
        $flag = [hashtable]::Synchronized(@{})
        $null = $ps.AddScript("param(`$flag); $setup$($work[$name])").AddArgument($flag)
        $null = $ps.BeginInvoke()
        $wait = [Diagnostics.Stopwatch]::StartNew()
        while (-not $flag.Started -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 100 }
        Start-Sleep -Seconds 3
        $running = $ps.InvocationStateInfo.State -eq 'Running'
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        [pscustomobject]@{ Workload = $name; StopSeconds = $watch.Elapsed.TotalSeconds; WasRunning = $running; GoalSeconds = 1.0 }
    }
    finally { $ps.Dispose() }
}
Write-Host "`nStop at hidden 1,024 (goal: 1 s; a row with WasRunning False had finished before Stop):" -ForegroundColor Cyan
$rows | Format-Table Workload, @{ n = 'Stop (s)'; e = { '{0:N3}' -f $_.StopSeconds } }, WasRunning -AutoSize | Out-String -Width 200 | Write-Host
$rows
