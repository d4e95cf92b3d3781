#requires -Version 7.4
<#
.SYNOPSIS
    What -Verify and -JournalPath cost: pipes -Count users through
    Invoke-MgBetaInvalidateAllUserRefreshToken plain, with -JournalPath, and with -Verify
    -JournalPath, against the mock with -LatencyMs of latency, without throttling and under the
    quota model of bench/Measure-BulkRevocation.ps1. Writes bench/results/verify-journal.md.
.EXAMPLE
    pwsh -NoProfile -File bench/Measure-VerifyJournal.ps1
#>
param(
    [int] $Count = 10000,
    [int] $LatencyMs = 50,
    # Throttling model (as bench/Measure-BulkRevocation.ps1): writes per second and burst.
    [int] $QuotaPerSecond = 200,
    [int] $Burst = 200
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'tests/TestHelpers.psm1') -Force
Import-Module (Get-ModuleManifestPath) -Force

function Get-LoadAverage {
    if (Test-Path /proc/loadavg) { ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' ' } else { 'n/a' }
}
$loadBefore = Get-LoadAverage
$folder = Join-Path ([System.IO.Path]::GetTempPath()) "verify-journal-bench-$([guid]::NewGuid().ToString('n'))"
New-Item -ItemType Directory -Path $folder | Out-Null

$mock = Start-GraphMock
try {
    $users = 0..($Count - 1) | ForEach-Object { '00000000-0000-4000-8000-{0:d12}' -f $_ }
    for ($start = 0; $start -lt $Count; $start += 2000) {
        $chunk = $users[$start..([Math]::Min($start + 1999, $Count - 1))]
        Invoke-MockControl $mock POST users @{ users = @($chunk | ForEach-Object { @{ id = $_; userPrincipalName = "u$($_.Substring(24))@contoso.com" } }) } | Out-Null
    }
    Connect-GraphMock $mock -Token (New-MockToken $mock -Roles 'User.RevokeSessions.All', 'User.Read.All')
    Invoke-MockControl $mock PUT latency @{ ms = $LatencyMs } | Out-Null
    $throttling = @{ enabled = $true; limits = @{ appTenantWrites = @{ capacity = $Burst; windowSeconds = $Burst / $QuotaPerSecond } } }

    $rows = foreach ($throttled in $false, $true) {
        foreach ($variant in 'plain', 'journal', 'verify+journal') {
            Clear-MockRequests $mock
            if ($throttled) { Invoke-MockControl $mock PUT throttling $throttling | Out-Null } else { Invoke-MockControl $mock DELETE throttling | Out-Null }
            $parameters = @{}
            $journal = Join-Path $folder "$variant-$throttled.jsonl"
            if ($variant -ne 'plain') { $parameters.JournalPath = $journal }
            if ($variant -eq 'verify+journal') { $parameters.Verify = $true }
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $results = $users | Invoke-MgBetaInvalidateAllUserRefreshToken @parameters -ErrorAction SilentlyContinue 6>$null
            $seconds = $watch.Elapsed.TotalSeconds
            $recorded = Get-MockRequests $mock
            $stats = (Invoke-MockControl $mock GET throttling).stats
            [pscustomobject]@{
                Throttled = $throttled
                Variant = $variant
                Seconds = $seconds
                True = @($results | Where-Object { $_ -eq $true }).Count
                Requests = @($recorded | Where-Object { -not $_.batchId }).Count
                Writes = @($recorded | Where-Object { $_.batchId -or $_.method -eq 'POST' } | Where-Object { $_.rawPath -like '*/invalidateAllRefreshTokens' }).Count
                Reads = @($recorded | Where-Object { $_.method -eq 'GET' }).Count
                Throttled429 = $stats.throttled
                JournalLines = if (Test-Path $journal) { [System.IO.File]::ReadAllLines($journal).Count } else { 0 }
            }
        }
    }

    $loadAfter = Get-LoadAverage
    $table = ($rows | ForEach-Object {
            "| $(if ($_.Throttled) { "quota $QuotaPerSecond/s" } else { 'none' }) | $($_.Variant) | $('{0:N1}' -f $_.Seconds) | $($_.True) | $($_.Requests) | $($_.Writes) | $($_.Reads) | $($_.Throttled429) | $($_.JournalLines) |"
        }) -join "`n"
    $report = @"
# -Verify and -JournalPath benchmark

Measured $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC on $([Environment]::ProcessorCount) cores, $([System.Runtime.InteropServices.RuntimeInformation]::OSDescription), PowerShell $($PSVersionTable.PSVersion), by ``pwsh -NoProfile -File bench/Measure-VerifyJournal.ps1`` ($Count users, $LatencyMs ms mock latency; quota model: $QuotaPerSecond writes/s per app and tenant after a burst of $Burst, reads on the resource-unit quota). The journal is on $((Get-Item $folder).FullName). Load average (1, 5, 15 min) before: $loadBefore; after: $loadAfter.

| throttling | run | time (s) | True | HTTP requests | revocations sent | reads | 429 answers | journal lines |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$table
"@
    $out = Join-Path $PSScriptRoot 'results/verify-journal.md'
    Set-Content -Path $out -Value $report
    $report
}
finally {
    Stop-GraphMock $mock
    Remove-Item -Recurse -Force $folder -ErrorAction SilentlyContinue
}
