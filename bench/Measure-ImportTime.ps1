#requires -Version 7.4
<#
.SYNOPSIS
    Times Import-Module of the built module in a fresh pwsh -NoProfile against a bare
    pwsh -NoProfile -Command 1 (medians of -Runs each, interleaved), and reports the module's
    size on disk. With the official Microsoft.Graph.Authentication at -OfficialManifest (default:
    ../shared/peers), the same run also times and weighs (working set) Import-Module of each
    module alone and of this module after the official one, in fresh processes.
    Writes bench/results/import-time.md.
.EXAMPLE
    pwsh -NoProfile -File bench/Measure-ImportTime.ps1
#>
param(
    [int] $Runs = 10,
    [string] $OfficialManifest = (Join-Path $PSScriptRoot '../../shared/peers/Microsoft.Graph.Authentication/2.25.0/Microsoft.Graph.Authentication.psd1')
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
$manifest = Get-ChildItem (Join-Path $root 'out/Microsoft.Graph.Beta.Users.Actions') -Filter *.psd1 -Recurse | Select-Object -First 1
if (-not $manifest) { throw 'Build the module first: ./build.ps1' }
$pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source

function Measure-Process([string] $command) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    & $pwsh -NoProfile -NonInteractive -Command $command | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "'$command' failed" }
    $watch.Elapsed.TotalMilliseconds
}

function Measure-InProcess([string] $before, [string] $module) {
    # Milliseconds and working-set growth (MB) of one Import-Module in a fresh process, after $before.
    $script = "$before; `$p = [System.Diagnostics.Process]::GetCurrentProcess(); `$w = `$p.WorkingSet64; " +
        "`$t = (Measure-Command { Import-Module '$module' }).TotalMilliseconds; `$p.Refresh(); " +
        "'{0};{1}' -f `$t, ((`$p.WorkingSet64 - `$w) / 1MB)"
    $fields = (& $pwsh -NoProfile -NonInteractive -Command $script) -split ';'
    [pscustomobject]@{ Ms = [double]$fields[0]; MB = [double]$fields[1] }
}

function Get-Median([double[]] $values) {
    $sorted = $values | Sort-Object
    $middle = [int][Math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2) { $sorted[$middle] } else { ($sorted[$middle - 1] + $sorted[$middle]) / 2 }
}

Measure-Process '1' | Out-Null   # warm the file cache for both
$bare = [System.Collections.Generic.List[double]]::new()
$import = [System.Collections.Generic.List[double]]::new()
$importAndCall = [System.Collections.Generic.List[double]]::new()
$inProcess = [System.Collections.Generic.List[double]]::new()
$side = @{ Ours = [System.Collections.Generic.List[object]]::new(); Official = [System.Collections.Generic.List[object]]::new(); OursAfterOfficial = [System.Collections.Generic.List[object]]::new() }
for ($i = 0; $i -lt $Runs; $i++) {
    $bare.Add((Measure-Process '1'))
    $import.Add((Measure-Process "Import-Module '$($manifest.FullName)'"))
    $importAndCall.Add((Measure-Process "Import-Module '$($manifest.FullName)'; `$null = Get-MgEnvironment"))
    # Inside the process: the Import-Module call alone, without pwsh's own start-up noise.
    $inProcess.Add([double](& $pwsh -NoProfile -NonInteractive -Command "(Measure-Command { Import-Module '$($manifest.FullName)' }).TotalMilliseconds"))
    if (Test-Path $OfficialManifest) {
        $side.Ours.Add((Measure-InProcess '$null = 1' $manifest.FullName))
        $side.Official.Add((Measure-InProcess '$null = 1' $OfficialManifest))
        $side.OursAfterOfficial.Add((Measure-InProcess "Import-Module '$OfficialManifest'" $manifest.FullName))
    }
}

$sideBySide = ''
if (Test-Path $OfficialManifest) {
    $sideRows = foreach ($name in 'Ours', 'Official', 'OursAfterOfficial') {
        $label = @{ Ours = 'this module alone'; Official = 'official Microsoft.Graph.Authentication 2.25.0 alone'; OursAfterOfficial = 'this module, the official one already imported' }[$name]
        '| {0} | {1:N1} | {2:N1} |' -f $label, (Get-Median $side[$name].Ms), (Get-Median $side[$name].MB)
    }
    $sideBySide = @"

Beside the official module, same run (fresh process each, medians of $Runs, in-process ``Measure-Command`` and working-set growth):

| Import-Module of | ms | MB |
| --- | ---: | ---: |
$($sideRows -join "`n")
"@
}

$folder = $manifest.Directory
$size = (Get-ChildItem $folder -Recurse -File | Measure-Object Length -Sum).Sum
$rows = Get-ChildItem $folder -Recurse -File | ForEach-Object {
    '| `{0}` | {1:N0} |' -f $_.FullName.Substring($folder.FullName.Length + 1), $_.Length
}
$bareMedian = Get-Median $bare
$importMedian = Get-Median $import
$callMedian = Get-Median $importAndCall
$inProcessMedian = Get-Median $inProcess
$report = @"
# Import time and size

Measured $(Get-Date -Format 'yyyy-MM-dd') on $([Environment]::ProcessorCount) cores, $([System.Runtime.InteropServices.RuntimeInformation]::OSDescription), PowerShell $($PSVersionTable.PSVersion), by ``bench/Measure-ImportTime.ps1`` ($Runs runs each, interleaved, medians of process wall time).

| command | median (ms) |
| --- | ---: |
| ``pwsh -NoProfile -Command 1`` | $('{0:N0}' -f $bareMedian) |
| ``pwsh -NoProfile -Command "Import-Module <module>"`` | $('{0:N0}' -f $importMedian) |
| ``... ; Get-MgEnvironment`` (first native call: library load + JIT) | $('{0:N0}' -f $callMedian) |

Measured inside a fresh process, ``Measure-Command { Import-Module <module> }`` takes **$('{0:N1}' -f $inProcessMedian) ms** (median).
$sideBySide

Process wall time: Import-Module adds **$('{0:N0}' -f ($importMedian - $bareMedian)) ms**; the first call into the engine adds **$('{0:N0}' -f ($callMedian - $importMedian)) ms** more.

Module size on disk: **$('{0:N2}' -f ($size / 1MB)) MB** ($('{0:N0}' -f $size) bytes).

| file | bytes |
| --- | ---: |
$($rows -join "`n")
"@
$out = Join-Path $PSScriptRoot 'results/import-time.md'
Set-Content -Path $out -Value $report
$report
