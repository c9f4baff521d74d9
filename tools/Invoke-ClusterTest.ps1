<#
.SYNOPSIS
    Runs the cluster examples on a real one-node Slurm cluster brought up on this machine, and checks their joined
    results against one process.
.DESCRIPTION
    Installs Debian's slurm-wlm and munge with apt-get when they are missing (that needs root: otherwise it stops
    with a message), starts munged (as user munge) and slurmctld and slurmd (as root) with their configuration, state
    and logs under out/cluster/, and then:
    - writes a state file of 2,000 rows (the trajectory of the 256-unit flip-flop model of the benchmarks, whose spectra
      cost enough for the split to pay) and three checkpoints (the bundled 24-unit model with its recurrent weights
      scaled by 0.6, 0.8 and 1.0, as a run's checkpoints grow their recurrent gain);
    - submits examples/cluster/analyse-states.sbatch as an array of 8 tasks over the state file and
      examples/cluster/fixed-points-per-checkpoint.sbatch as an array of 3 (one per checkpoint), as they are;
    - joins each job's parts with Join-RnnResult and compares them with numpy (tools/compare_npz.py) against one
      process doing the same work: every index once, numbers equal to 1e-12;
    - prints the array job's time against the one process's, and stops the daemons it started (by their pids).
#>
param(
    [Parameter(Mandatory)][string] $Root,
    [Parameter(Mandatory)][string] $ModulePath
)
$ErrorActionPreference = 'Stop'
$cluster = Join-Path $Root 'out/cluster'
$started = [Collections.Generic.List[object]]::new()

function Install-Slurm {
    $missing = @('sbatch', 'squeue', 'sinfo', 'slurmctld', 'slurmd', 'munged') | Where-Object { -not (Get-Command $_ -ErrorAction Ignore) }
    if (-not $missing) { return }
    if ((id -u) -ne '0' -or -not (Get-Command apt-get -ErrorAction Ignore)) {
        throw "ClusterTest needs Slurm and munge ($($missing -join ', ') missing). Installing them needs root and apt-get: run as root, or install them with: apt-get install slurm-wlm munge"
    }
    Write-Host 'Installing slurm-wlm and munge with apt-get' -ForegroundColor Cyan
    $env:DEBIAN_FRONTEND = 'noninteractive'
    apt-get update -qq | Out-Null
    apt-get install -y -qq slurm-wlm munge | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'apt-get install slurm-wlm munge failed.' }
}

# Starts a daemon that writes a pid file, and remembers the pid so that it is stopped, whatever happens.
function Start-Daemon([string] $Name, [string] $PidFile, [scriptblock] $Start) {
    & $Start
    if ($LASTEXITCODE -ne 0) { throw "$Name did not start (exit code $LASTEXITCODE); see its log under $cluster." }
    $wait = [Diagnostics.Stopwatch]::StartNew()
    while (-not (Test-Path $PidFile) -and $wait.Elapsed.TotalSeconds -lt 20) { Start-Sleep -Milliseconds 200 }
    if (-not (Test-Path $PidFile)) { throw "$Name wrote no pid file ($PidFile)." }
    $id = [int](Get-Content $PidFile -Raw).Trim()
    $started.Add([pscustomobject]@{ Name = $Name; Id = $id })
    Write-Host "  $Name started (pid $id)"
}

function Wait-Job([string] $Job) {
    while (squeue -h -j $Job 2>$null) { Start-Sleep -Milliseconds 250 }
}

function Compare-Npz([string] $Expected, [string] $Actual, [string] $What) {
    $out = & /usr/bin/python3 (Join-Path $Root 'tools/compare_npz.py') $Expected $Actual 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$What differs from one process: $out" }
    "$out"
}

try {
    Install-Slurm
    Remove-Item $cluster -Recurse -Force -ErrorAction Ignore
    foreach ($d in 'state', 'spool', 'logs', 'data', 'checkpoints', 'parts', 'parts-fp', 'munge') { New-Item -ItemType Directory (Join-Path $cluster $d) -Force | Out-Null }

    # munge, as user munge, with its socket under out/cluster/munge.
    $munge = Join-Path $cluster 'munge'
    chown munge:munge $munge
    chmod 755 $munge   # clients (slurmctld, slurmd, sbatch) reach the socket through it
    $key = '/etc/munge/munge.key'
    if (-not (Test-Path $key)) {
        $key = Join-Path $munge 'munge.key'
        runuser -u munge -- mungekey --create --keyfile $key
    }
    $socket = Join-Path $munge 'munge.socket'
    Write-Host "Starting a one-node Slurm cluster (config, state and logs in $cluster)" -ForegroundColor Cyan
    Start-Daemon 'munged' (Join-Path $munge 'munged.pid') {
        runuser -u munge -- munged "--socket=$socket" "--key-file=$key" "--pid-file=$munge/munged.pid" "--log-file=$munge/munged.log" "--seed-file=$munge/munged.seed"
    }

    $hostName = (hostname -s).Trim()
    $cpus = [Environment]::ProcessorCount
    $memory = [int]((Get-Content /proc/meminfo | Select-String '^MemTotal:\s+(\d+)').Matches[0].Groups[1].Value / 1024 * 0.8)
    $conf = Join-Path $cluster 'slurm.conf'
    Set-Content $conf @"
ClusterName=rnnlinearization
SlurmctldHost=$hostName
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd.pid
SlurmctldLogFile=$cluster/slurmctld.log
SlurmdLogFile=$cluster/slurmd.log
NodeName=$hostName CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=rnn Nodes=$hostName Default=YES MaxTime=INFINITE State=UP
"@
    $env:SLURM_CONF = $conf
    Start-Daemon 'slurmctld' (Join-Path $cluster 'slurmctld.pid') { slurmctld -f $conf }
    Start-Daemon 'slurmd' (Join-Path $cluster 'slurmd.pid') { slurmd -f $conf }
    $wait = [Diagnostics.Stopwatch]::StartNew()
    while ((sinfo -h -o '%T' 2>$null) -notmatch 'idle' -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 500 }
    if ((sinfo -h -o '%T') -notmatch 'idle') { throw "The node did not come up: $(sinfo -h)" }
    Write-Host "  node $hostName idle with $cpus CPUs"

    # The data: 2,000 states of the 256-unit model, and three checkpoints of the bundled 24-unit one.
    Import-Module $ModulePath -Force
    $model = Join-Path $Root 'bench/flipflop256.pt'
    $inputs = foreach ($t in 1..2000) { $x = [double[]](0, 0, 0); if ($t % 25 -eq 0) { $x[($t / 25) % 3] = 1 - 2 * (($t / 25) % 2) }; , $x }
    $states = Join-Path $cluster 'data/states.npy'
    Get-RnnTrajectory -Model $model -InputSequence $inputs | Export-RnnState $states -WarningAction SilentlyContinue   # the states alone
    $m = Import-RnnModel (Join-Path $Root 'examples/flipflop_rnn.pt')
    $starts = Join-Path $cluster 'data/starts.npy'
    Get-RnnTrajectory -Model $m -InputSequence $inputs[0..399] | Export-RnnState $starts -WarningAction SilentlyContinue
    foreach ($gain in 0.6, 0.8, 1.0) {
        $sd = [Collections.Generic.Dictionary[string, RnnLinearization.Core.Parameter]]::new()
        foreach ($kv in $m.Parameters.GetEnumerator()) {
            $data = [double[]]$kv.Value.Data.Clone()
            if ($kv.Key -like 'weight_hh*') { for ($i = 0; $i -lt $data.Length; $i++) { $data[$i] *= $gain } }
            $sd[$kv.Key] = [RnnLinearization.Core.Parameter]::new($kv.Value.Shape, $data)
        }
        $sd['readout.weight'] = $m.Readout.Weight
        if ($m.Readout.Bias) { $sd['readout.bias'] = $m.Readout.Bias }
        $checkpoint = [RnnLinearization.Core.ModelFactory]::FromStateDict($sd, $null, 'Tanh', '', $null, [NullString]::Value, $false)
        Export-RnnModel -Model $checkpoint -Path (Join-Path $cluster ("checkpoints/gain-{0:0.0}.safetensors" -f $gain))
    }

    # The two example jobs, as they are; the environment says where things are.
    $env:MODULE = $ModulePath
    $env:PWSH = "dotnet $(Join-Path $PSHOME 'pwsh.dll')"
    $env:MODEL = $model
    $env:STATES = $states
    $env:STARTS = $starts
    $env:CHECKPOINTS = Join-Path $cluster 'checkpoints'
    Write-Host 'Submitting examples/cluster/analyse-states.sbatch (8 tasks) and fixed-points-per-checkpoint.sbatch (3 tasks)' -ForegroundColor Cyan
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $env:OUT = Join-Path $cluster 'parts'
    $spectra = sbatch --parsable --array=0-7 --chdir=$cluster --output="$cluster/logs/spectra-%A_%a.out" (Join-Path $Root 'examples/cluster/analyse-states.sbatch')
    Wait-Job $spectra
    $arraySeconds = $watch.Elapsed.TotalSeconds
    $env:OUT = Join-Path $cluster 'parts-fp'
    $watch.Restart()
    $points = sbatch --parsable --array=0-2 --chdir=$cluster --output="$cluster/logs/fixed-points-%A_%a.out" (Join-Path $Root 'examples/cluster/fixed-points-per-checkpoint.sbatch')
    Wait-Job $points
    $pointsSeconds = $watch.Elapsed.TotalSeconds
    foreach ($expected in @{ Dir = 'parts'; Count = 8 }, @{ Dir = 'parts-fp'; Count = 3 }) {
        $found = @(Get-ChildItem (Join-Path $cluster $expected.Dir) -Filter *.npz)
        if ($found.Count -ne $expected.Count) {
            Get-ChildItem (Join-Path $cluster 'logs') | ForEach-Object { Write-Host "--- $($_.Name)"; Get-Content $_ | Select-Object -Last 15 | Write-Host }
            throw "$($expected.Dir): $($found.Count) parts instead of $($expected.Count) (task logs above)."
        }
    }

    # One process doing the same, and the joins.
    $watch.Restart()
    Set-RnnConfiguration -ThreadCount 1
    Import-RnnState $states | Get-RnnEigen -Model $model -NoEigenvectors | Export-RnnResult (Join-Path $cluster 'one-process-spectra.npz')
    $oneSeconds = $watch.Elapsed.TotalSeconds
    $reference = foreach ($file in Get-ChildItem (Join-Path $cluster 'checkpoints') -Filter *.safetensors | Sort-Object Name) {
        $c = Import-RnnModel $file.FullName
        Find-RnnFixedPoint -Model $c -InitialState $starts -Count 512 -Noise 0.5 -Seed 1 |
            Add-Member -NotePropertyName Checkpoint -NotePropertyValue $file.BaseName -PassThru
    }
    $reference | Export-RnnResult (Join-Path $cluster 'one-process-fixed-points.npz')
    Join-RnnResult (Join-Path $cluster 'parts/part-*.npz') (Join-Path $cluster 'spectra.npz')
    Join-RnnResult (Join-Path $cluster 'parts-fp/fp-*.npz') (Join-Path $cluster 'fixed-points.npz')
    $a = Compare-Npz (Join-Path $cluster 'one-process-spectra.npz') (Join-Path $cluster 'spectra.npz') 'The joined spectra'
    $b = Compare-Npz (Join-Path $cluster 'one-process-fixed-points.npz') (Join-Path $cluster 'fixed-points.npz') 'The joined fixed points'
    if ($a -notlike 'same * 2000 ordered') { throw "The joined spectra do not hold every index once, in order: $a" }
    Write-Output ("ClusterTest on Slurm $((sinfo -V).Trim() -replace '^slurm ', '') ($cpus CPUs, one node):")
    Write-Output ("  analyse-states.sbatch, 8 array tasks over 2,000 states of 256 units: {0:0.0} s from submission to the last part; one process: {1:0.0} s; joined = one process ({2})" -f $arraySeconds, $oneSeconds, $a)
    Write-Output ("  fixed-points-per-checkpoint.sbatch, 3 array tasks: {0:0.0} s; joined table = one process over the checkpoints ({1})" -f $pointsSeconds, $b)
}
finally {
    # Stop what was started, newest first, by pid; nothing is left running.
    for ($i = $started.Count - 1; $i -ge 0; $i--) {
        $d = $started[$i]
        if (Get-Process -Id $d.Id -ErrorAction Ignore) {
            Stop-Process -Id $d.Id -ErrorAction Ignore
            $wait = [Diagnostics.Stopwatch]::StartNew()
            while ((Get-Process -Id $d.Id -ErrorAction Ignore) -and $wait.Elapsed.TotalSeconds -lt 10) { Start-Sleep -Milliseconds 200 }
            if (Get-Process -Id $d.Id -ErrorAction Ignore) { Stop-Process -Id $d.Id -Force -ErrorAction Ignore }
            Write-Host "  $($d.Name) stopped (pid $($d.Id))"
        }
    }
}
