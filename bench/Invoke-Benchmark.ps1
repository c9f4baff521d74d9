<#
.SYNOPSIS
    ./build.ps1 -Task Bench: the module against the seed's class and batched PyTorch, on the same models and states.
.DESCRIPTION
    bench_torch.py (Debian's python3-torch, installed here with apt-get when missing and possible) writes the
    models and states and times the seed and the batched closed-form PyTorch code; this script times the module's
    core API (CoreTimer.cs) and its cmdlets (module imported, as a user runs them) on the same files, then the
    pipeline, memory and import-time workloads, then the fixed-point rows (Invoke-FixedPointBenchmark.ps1) and the
    Lyapunov rows (Invoke-LyapunovBenchmark.ps1), and the rows of selection vectors, the fixed-point graph and
    continuation (Invoke-DynamicsBenchmark.ps1), -Top against the full decomposition, LAPACK and ARPACK
    (Invoke-TopModesBenchmark.ps1), and how long Stop takes (Invoke-StopBenchmark.ps1). Threads are set to the same count on every side. Prints a table
    of per-state times and ratios and writes out/bench/bench.json. Ratios are measured in this one run.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $OutDir = (Join-Path $PSScriptRoot '../out/bench'),
    [int] $Threads = [Math]::Min(2, [Environment]::ProcessorCount),
    [int[]] $Sizes = @(64, 256, 1024),
    [int] $States = 2000,
    [int] $PipelineStates = 20000,
    [int] $MemoryStates = 200000,
    # Hidden size of the GRU and LSTM rows.
    [int] $CellHidden = 256,
    # Reuses out/bench/torch.json and its files from an earlier run (while working on the module's side).
    [switch] $ReuseTorch
)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory $OutDir -Force | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$ModulePath = (Resolve-Path $ModulePath).Path

if (-not $ReuseTorch) {
function Test-TorchPython { & /usr/bin/python3 -c 'import torch, numpy, scipy' 2>$null; return $LASTEXITCODE -eq 0 }
$python = (Test-Path /usr/bin/python3) -and (Test-TorchPython)
if (-not $python) {
    if ((Get-Command apt-get -ErrorAction Ignore) -and ((id -u) -eq '0')) {
        Write-Host 'Installing python3-torch, python3-numpy and python3-scipy with apt-get (for the seed, PyTorch and ARPACK columns)...' -ForegroundColor Cyan
        $env:DEBIAN_FRONTEND = 'noninteractive'
        apt-get update -qq | Out-Null
        apt-get install -y -qq python3-torch python3-numpy python3-scipy | Out-Null
        $python = Test-TorchPython
    }
    if (-not $python) { throw 'python3-torch, python3-numpy or python3-scipy is missing and could not be installed (needs Debian apt-get as root): the seed, PyTorch and ARPACK columns cannot be measured. Install them with: apt-get install python3-torch python3-numpy python3-scipy' }
}

Write-Host "PyTorch side (seed class and batched closed form), $Threads threads..." -ForegroundColor Cyan
& /usr/bin/python3 (Join-Path $PSScriptRoot 'bench_torch.py') --out $OutDir --threads $Threads --sizes ($Sizes -join ',') --states $States --pipeline-states $PipelineStates --cell-hidden $CellHidden
if ($LASTEXITCODE -ne 0) { throw "bench_torch.py failed (exit code $LASTEXITCODE)." }
}
$torch = Get-Content (Join-Path $OutDir 'torch.json') -Raw | ConvertFrom-Json -AsHashtable

Import-Module $ModulePath -Force
Set-RnnConfiguration -ThreadCount $Threads
$moduleDir = Split-Path (Resolve-Path $ModulePath)
Add-Type -IgnoreWarnings -WarningAction SilentlyContinue -Path (Join-Path $PSScriptRoot 'CoreTimer.cs') -ReferencedAssemblies @(
    (Join-Path $moduleDir 'RnnLinearization.Core.dll'), (Join-Path $moduleDir 'TorchSharp.dll'), 'System.Runtime', 'System.Collections', 'System.Linq')

function Measure-Median([scriptblock] $Body, [int] $Repeats = 3) {
    $t = 1..$Repeats | ForEach-Object { & $Body }
    ($t | Sort-Object)[[int][math]::Floor($Repeats / 2)]
}
function Measure-Seconds([scriptblock] $Body) { (Measure-Command $Body).TotalSeconds }
function Read-Rows([string] $File) { , [double[][]]@(Import-RnnState (Join-Path $OutDir $File) | ForEach-Object { , $_.State }) }

$rows = [Collections.Generic.List[object]]::new()
function Add-Row($Workload, $Hidden, $Seed, $Torch, $Core, $Cmdlet, $Extra = $null) {
    $rows.Add([pscustomobject]@{
        Workload = $Workload; Hidden = $Hidden
        SeedUs = 1e6 * $Seed; TorchBatchedUs = 1e6 * $Torch; CoreUs = 1e6 * $Core; CmdletUs = 1e6 * $Cmdlet
        CoreVsSeed = $Seed / $Core; CoreVsTorch = $Torch / $Core; CmdletVsCore = $Cmdlet / $Core; Note = $Extra
    })
}

$floor = [Collections.Generic.List[object]]::new()
foreach ($h in $Sizes) {
    Write-Host "Module side, hidden size $h..." -ForegroundColor Cyan
    $t = $torch.sizes["$h"]
    $m = Import-RnnModel (Join-Path $OutDir "models/rnn_h$h.pt")
    $x = Read-Rows "inputs_h$h.npy"
    $s = Read-Rows "states_h$h.npy"
    $dh = Read-Rows "perturbations_h$h.npy"
    $dx = [double[]](0.01, 0.01, 0.01)
    $objs = for ($i = 0; $i -lt $s.Count; $i++) { [RnnLinearization.RnnState]@{ Index = $i; Input = $x[$i]; State = $s[$i] } }
    $batch = [math]::Max(1, [math]::Min(1000, [int]((1 -shl 29) / ($h * $h * 8))))

    [void][CoreTimer]::JacobianArrays($m, $x[0..9], $s[0..9], $batch)   # warm-up
    $coreArrays = Measure-Median { [CoreTimer]::JacobianArrays($m, $x, $s, $batch) }
    $coreBuffers = Measure-Median { [CoreTimer]::JacobianBuffers($m, $x, $s, $batch) }
    $cmdlet = Measure-Median { (Measure-Seconds { $objs | Get-RnnJacobian -Model $m -BatchSize $batch }) / $objs.Count }
    Add-Row 'Jacobian' $h $t.seed.jacobian $t.torch_batched.jacobian $coreArrays $cmdlet 'core: arrays handed out'
    $floor.Add([pscustomobject]@{ Hidden = $h; FloorUs = 1e6 * (Measure-Median { [CoreTimer]::AllocationFloor($h, 3, $s.Count) }); ArraysUs = 1e6 * $coreArrays; BuffersUs = 1e6 * $coreBuffers; SeedUs = 1e6 * $t.seed.jacobian })
    Add-Row 'Jacobian (reused buffers)' $h $t.seed.jacobian $t.torch_batched.jacobian $coreBuffers $cmdlet 'core: JacobianBatch.CopyTo'

    $n = [int]$t.eig_states
    $eigBatch = [math]::Min($batch, 256)
    [void][CoreTimer]::Eigen($m, $x[0..3], $s[0..3], 4, $true)   # warm-up: LAPACK and the threads of the split batch
    $coreEig = Measure-Median { [CoreTimer]::Eigen($m, $x[0..($n - 1)], $s[0..($n - 1)], $eigBatch, $true) } ($(if ($h -ge 1024) { 1 } else { 3 }))
    $cmdletEig = Measure-Median { (Measure-Seconds { $objs[0..($n - 1)] | Get-RnnEigen -Model $m -BatchSize $eigBatch }) / $n } ($(if ($h -ge 1024) { 1 } else { 3 }))
    Add-Row 'Eigendecomposition' $h $t.seed.eig $t.torch_batched.eig $coreEig $cmdletEig "$n states, with eigenvectors"

    $coreTaylor = Measure-Median { [CoreTimer]::Taylor($m, $x, $s, $dx, $dh, $batch) }
    $cmdletTaylor = Measure-Median { (Measure-Seconds { $objs | Invoke-RnnLinearization -Model $m -DeltaInput $dx -DeltaState $dh -BatchSize $batch }) / $objs.Count }
    Add-Row 'Taylor step (8 rows)' $h $t.seed.taylor $t.torch_batched.taylor $coreTaylor $cmdletTaylor 'per state, 8 perturbations'
    Remove-Variable objs, x, s
    [GC]::Collect()
}

foreach ($kind in 'gru', 'lstm') {
    # Cells the seed cannot take: its column is per-state torch.autograd.functional.jacobian, the seed's approach.
    $c = $torch.cells[$kind]
    $hc = $c.hidden
    $label = @{ gru = 'GRU'; lstm = 'LSTM' }[$kind]
    Write-Host "Module side, $label hidden size $hc (state $($c.state_size))..." -ForegroundColor Cyan
    $m = Import-RnnModel (Join-Path $OutDir "models/${kind}_h$hc.pt")
    $x = Read-Rows "cell_inputs_h$hc.npy"
    $s = Read-Rows "${kind}_states_h$hc.npy"
    $objs = for ($i = 0; $i -lt $s.Count; $i++) { [RnnLinearization.RnnState]@{ Index = $i; Input = $x[$i]; State = $s[$i] } }
    $w = $c.state_size
    $batch = [math]::Max(1, [math]::Min(256, [int]((1 -shl 28) / ($w * $w * 8))))
    [void][CoreTimer]::JacobianArrays($m, $x[0..9], $s[0..9], $batch)
    $core = Measure-Median { [CoreTimer]::JacobianArrays($m, $x, $s, $batch) }
    $cmdlet = Measure-Median { (Measure-Seconds { $objs | Get-RnnJacobian -Model $m -BatchSize $batch }) / $objs.Count }
    Add-Row "Jacobian ($label)" $hc $c.per_state.jacobian $c.torch_batched.jacobian $core $cmdlet "state $w; seed column: autograd.functional.jacobian per state"
    $n = [int]$c.eig_states
    $coreEig = Measure-Median { [CoreTimer]::Eigen($m, $x[0..($n - 1)], $s[0..($n - 1)], $batch, $true) }
    $cmdletEig = Measure-Median { (Measure-Seconds { $objs[0..($n - 1)] | Get-RnnEigen -Model $m -BatchSize $batch }) / $n }
    Add-Row "Eigendecomposition ($label)" $hc $c.per_state.eig $c.torch_batched.eig $coreEig $cmdletEig "state $w; $n states, with eigenvectors"
    Remove-Variable objs, x, s
    [GC]::Collect()
}

# The cmdlet's Jacobians are bound by allocating the arrays it hands out; the garbage collector's young generation
# is fixed when a process starts, so its effect is measured in fresh processes, with and without a larger one.
Write-Host 'Cmdlet Jacobians in fresh processes, default GC and DOTNET_GCgen0size=0x8000000...' -ForegroundColor Cyan
$gcRows = foreach ($h in $Sizes) {
    $batch = [math]::Max(1, [math]::Min(1000, [int]((1 -shl 29) / ($h * $h * 8))))
    $probe = "Import-Module '$ModulePath'; Set-RnnConfiguration -ThreadCount $Threads; " +
        "`$m = Import-RnnModel '$(Join-Path $OutDir "models/rnn_h$h.pt")'; " +
        "`$x = @(Import-RnnState '$(Join-Path $OutDir "inputs_h$h.npy")' | ForEach-Object { , `$_.State }); " +
        "`$objs = @(Import-RnnState '$(Join-Path $OutDir "states_h$h.npy")' | ForEach-Object { [RnnLinearization.RnnState]@{ Index = `$_.Index; Input = `$x[`$_.Index]; State = `$_.State } }); " +
        "`$null = `$objs[0..9] | Get-RnnJacobian -Model `$m; " +
        "if (@(`$objs[0..1] | Get-RnnJacobian -Model `$m -ErrorAction Stop).Count -ne 2) { throw 'no Jacobians' }; " +
        "`$t = foreach (`$k in 1..3) { (Measure-Command { `$objs | Get-RnnJacobian -Model `$m -BatchSize $batch }).TotalSeconds / `$objs.Count }; (`$t | Sort-Object)[1]"
    $run = { [double](& dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $probe | Select-Object -Last 1) }
    $default = & $run
    $env:DOTNET_GCgen0size = '0x8000000'
    try { $large = & $run } finally { Remove-Item Env:DOTNET_GCgen0size }
    [pscustomobject]@{ Hidden = $h; DefaultUs = 1e6 * $default; Gen0Size128MBUs = 1e6 * $large; Speedup = $default / $large }
}

Write-Host "Pipeline: Import-RnnState | Get-RnnEigen -PerMode | Export-Csv over $PipelineStates states, hidden 128..." -ForegroundColor Cyan
$m128 = Import-RnnModel (Join-Path $OutDir 'models/rnn_h128.pt')
$csv = Join-Path $OutDir 'modes.csv'
$pipeline = Measure-Seconds { Import-RnnState (Join-Path $OutDir 'pipeline_states_h128.npy') | Get-RnnEigen -Model $m128 -PerMode | Export-Csv $csv }
$pipelineRows = (Get-Content $csv | Measure-Object -Line).Lines - 1
Remove-Item $csv

Write-Host "Memory: $MemoryStates states streamed through Get-RnnEigen -NoEigenvectors, hidden 32..." -ForegroundColor Cyan
$m32 = New-RnnModel -InputSize 3 -HiddenSize 32 -Seed 32
$proc = [Diagnostics.Process]::GetCurrentProcess()
$source = { param($n) $v = [double[]]::new(32); for ($i = 0; $i -lt $n; $i++) { $v[$i % 32] = 0.5 * [math]::Sin($i); [RnnLinearization.RnnState]@{ Index = $i; State = $v.Clone() } } }
& $source 5000 | Get-RnnEigen -Model $m32 -NoEigenvectors | Out-Null
[GC]::Collect(); $proc.Refresh(); $rssBefore = $proc.WorkingSet64; $peak = $rssBefore
$liveBefore = [TorchSharp.torch+Tensor]::TotalCount
$memorySeconds = Measure-Seconds {
    & $source $MemoryStates | Get-RnnEigen -Model $m32 -NoEigenvectors | ForEach-Object -Begin { $k = 0 } -Process {
        if (++$k % 5000 -eq 0) { $proc.Refresh(); $script:peak = [math]::Max($script:peak, $proc.WorkingSet64) }
    }
}
$liveAfter = [TorchSharp.torch+Tensor]::TotalCount

Write-Host 'Import-Module time in a fresh process...' -ForegroundColor Cyan
$probe = "`$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$ModulePath'; `$m = New-RnnModel -InputSize 3 -HiddenSize 64 -Seed 1; " +
    "`$null = Get-RnnJacobian -Model `$m -State (1..64 | ForEach-Object { 0.01 * `$_ }); `$sw.Elapsed.TotalSeconds"
$importSeconds = Measure-Median { [double](& dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $probe | Select-Object -Last 1) }

Write-Host 'Fixed points against the toolkits'' Adam procedure and a PyTorch Newton solve (bench/Invoke-FixedPointBenchmark.ps1)...' -ForegroundColor Cyan
$fixedPointRows = & (Join-Path $PSScriptRoot 'Invoke-FixedPointBenchmark.ps1') -ModulePath $ModulePath -OutDir $OutDir -ReuseTorch:$ReuseTorch

Write-Host 'Lyapunov spectra against the reference code''s per-step work in numpy (bench/Invoke-LyapunovBenchmark.ps1)...' -ForegroundColor Cyan
$lyapunov = & (Join-Path $PSScriptRoot 'Invoke-LyapunovBenchmark.ps1') -ModulePath $ModulePath -OutDir $OutDir

Write-Host 'Selection vectors, the fixed-point graph and continuation against numpy (bench/Invoke-DynamicsBenchmark.ps1)...' -ForegroundColor Cyan
$dynamics = & (Join-Path $PSScriptRoot 'Invoke-DynamicsBenchmark.ps1') -ModulePath $ModulePath -OutDir $OutDir

Write-Host 'Spectra at scale: -Top 10 against the full decomposition, bare LAPACK and ARPACK (bench/Invoke-TopModesBenchmark.ps1)...' -ForegroundColor Cyan
$topModes = & (Join-Path $PSScriptRoot 'Invoke-TopModesBenchmark.ps1') -ModulePath $ModulePath -OutDir $OutDir -WarningAction SilentlyContinue

Write-Host 'Stop (what Ctrl+C does) from long work at hidden 1,024 (bench/Invoke-StopBenchmark.ps1)...' -ForegroundColor Cyan
$stops = & (Join-Path $PSScriptRoot 'Invoke-StopBenchmark.ps1') -ModulePath $ModulePath

$summary = [ordered]@{
    Date = (Get-Date).ToString('s'); Machine = "$([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription)"
    Threads = (Get-RnnConfiguration).ThreadCount; TorchThreads = $torch.threads; PythonTorch = $torch.torch_version
    Workloads = $rows
    CmdletJacobianGc = $gcRows
    JacobianAllocationFloor = $floor
    Pipeline = [ordered]@{ States = $PipelineStates; Hidden = 128; Rows = $pipelineRows; Seconds = $pipeline; UsPerState = 1e6 * $pipeline / $PipelineStates }
    Memory = [ordered]@{ States = $MemoryStates; Hidden = 32; Seconds = $memorySeconds; RssGrowthMB = ($peak - $rssBefore) / 1MB; TensorsAliveBefore = $liveBefore; TensorsAliveAfter = $liveAfter }
    ImportSeconds = $importSeconds
    FixedPoints = $fixedPointRows
    Lyapunov = $lyapunov
    Dynamics = $dynamics
    TopModes = $topModes
    Stop = $stops
}
# Written beside and moved into place, as the module writes its files: an interrupted run leaves the last report whole.
$summary | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $OutDir 'bench.json.partial')
Move-Item (Join-Path $OutDir 'bench.json.partial') (Join-Path $OutDir 'bench.json') -Force

$fmt = { param($v) if ($v -ge 100) { '{0:N0}' -f $v } elseif ($v -ge 1) { '{0:N1}' -f $v } else { '{0:N2}' -f $v } }
Write-Host "`nPer-state times in microseconds; threads: module $($summary.Threads), PyTorch $($torch.threads) (PyTorch $($torch.torch_version))." -ForegroundColor Cyan
$rows | Format-Table Workload, Hidden,
    @{ n = 'Seed'; e = { & $fmt $_.SeedUs }; a = 'right' }, @{ n = 'Torch batched'; e = { & $fmt $_.TorchBatchedUs }; a = 'right' },
    @{ n = 'Core'; e = { & $fmt $_.CoreUs }; a = 'right' }, @{ n = 'Cmdlet'; e = { & $fmt $_.CmdletUs }; a = 'right' },
    @{ n = 'Core vs seed'; e = { '{0:N0}x' -f $_.CoreVsSeed }; a = 'right' }, @{ n = 'Core vs torch'; e = { '{0:N2}x' -f $_.CoreVsTorch }; a = 'right' },
    @{ n = 'Cmdlet/Core'; e = { '{0:N2}' -f $_.CmdletVsCore }; a = 'right' } -AutoSize | Out-String -Width 200 | Write-Host
Write-Host 'Jacobians handed out as fresh double[][]: microseconds per state to allocate and fill the arrays alone (no math), against the core path.'
$floor | Format-Table Hidden, @{ n = 'Allocate + fill'; e = { & $fmt $_.FloorUs }; a = 'right' }, @{ n = 'Core (arrays)'; e = { & $fmt $_.ArraysUs }; a = 'right' },
    @{ n = 'Core (reused buffers)'; e = { & $fmt $_.BuffersUs }; a = 'right' }, @{ n = 'Seed / floor'; e = { '{0:N0}x' -f ($_.SeedUs / $_.FloorUs) }; a = 'right' } -AutoSize | Out-String -Width 200 | Write-Host
Write-Host 'Get-RnnJacobian in a fresh process, microseconds per state: default GC against DOTNET_GCgen0size=0x8000000 (128 MB young generation).'
$gcRows | Format-Table Hidden, @{ n = 'Default GC'; e = { & $fmt $_.DefaultUs }; a = 'right' }, @{ n = 'gen0 128 MB'; e = { & $fmt $_.Gen0Size128MBUs }; a = 'right' },
    @{ n = 'Speed-up'; e = { '{0:N2}x' -f $_.Speedup }; a = 'right' } -AutoSize | Out-String -Width 200 | Write-Host
Write-Host ("Pipeline Import-RnnState | Get-RnnEigen -PerMode | Export-Csv: {0:N0} states, {1:N0} rows in {2:N1} s ({3:N0} us/state)" -f $PipelineStates, $pipelineRows, $pipeline, $summary.Pipeline.UsPerState)
Write-Host ("Memory: {0:N0} states (hidden 32) through Get-RnnEigen -NoEigenvectors in {1:N1} s; resident growth after warm-up {2:N1} MB; live tensors {3} before, {4} after" -f $MemoryStates, $memorySeconds, $summary.Memory.RssGrowthMB, $liveBefore, $liveAfter)
Write-Host ("Import-Module + first Get-RnnJacobian in a fresh process: {0:N2} s" -f $importSeconds)
Write-Host "Written: $(Join-Path $OutDir 'bench.json')"
