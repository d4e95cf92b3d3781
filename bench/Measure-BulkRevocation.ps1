#requires -Version 7.4
<#
.SYNOPSIS
    Pipes -Count users through Invoke-MgBetaInvalidateAllUserRefreshToken against the mock
    Graph with -LatencyMs of latency, without and with the throttling model, next to the
    sequential loop the official module performs and a fixed-concurrency client, all in one
    run against the same mock. Writes bench/results/bulk.md.
.EXAMPLE
    pwsh -NoProfile -File bench/Measure-BulkRevocation.ps1
#>
param(
    [int] $Count = 10000,
    [int] $LatencyMs = 50,
    # The sequential loop takes Count x latency; time this many and extrapolate (0 = all).
    [int] $SequentialCount = 1000,
    # Throttling model: writes allowed per second (per app and tenant) and the burst.
    [int] $QuotaPerSecond = 200,
    [int] $Burst = 200,
    # The fixed-concurrency client: ForEach-Object -Parallel with this many threads.
    [int] $FixedConcurrency = 64
)

$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot -Parent
Import-Module (Join-Path $root 'tests/TestHelpers.psm1') -Force
Import-Module (Get-ModuleManifestPath) -Force

# Other work on the machine skews the timings: record the load average before and after.
function Get-LoadAverage {
    if (Test-Path /proc/loadavg) { ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' ' } else { 'n/a' }
}
$loadBefore = Get-LoadAverage

$mock = Start-GraphMock
try {
    $users = 0..($Count - 1) | ForEach-Object { '00000000-0000-4000-8000-{0:d12}' -f $_ }
    for ($start = 0; $start -lt $Count; $start += 2000) {
        $chunk = $users[$start..([Math]::Min($start + 1999, $Count - 1))]
        Invoke-MockControl $mock POST users @{ users = @($chunk | ForEach-Object { @{ id = $_; userPrincipalName = "u$($_.Substring(24))@contoso.com" } }) } | Out-Null
    }
    $token = New-MockToken $mock
    Connect-GraphMock $mock -Token $token
    Invoke-MockControl $mock PUT latency @{ ms = $LatencyMs } | Out-Null

    function Reset-Run {
        Clear-MockRequests $mock
        Invoke-MockControl $mock DELETE throttling | Out-Null
    }

    function Measure-Seconds([scriptblock] $work) {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        & $work
        $watch.Elapsed.TotalSeconds
    }

    # 1. The module, all users piped, no throttling.
    Reset-Run
    $bulkSeconds = Measure-Seconds { $users | Invoke-MgBetaInvalidateAllUserRefreshToken | Out-Null }
    $recorded = Get-MockRequests $mock
    $bulkRequests = @($recorded | Where-Object { -not $_.batchId }).Count

    # 2. The official module's way: one request after another, each a full round trip.
    Reset-Run
    $sequentialUsers = if ($SequentialCount -le 0 -or $SequentialCount -gt $Count) { $Count } else { $SequentialCount }
    $sequentialSeconds = Measure-Seconds {
        foreach ($user in $users[0..($sequentialUsers - 1)]) { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $user | Out-Null }
    }
    $sequentialFull = $sequentialSeconds * $Count / $sequentialUsers

    # 3. Throttling model on: the module.
    $throttling = @{ enabled = $true; limits = @{ appTenantWrites = @{ capacity = $Burst; windowSeconds = $Burst / $QuotaPerSecond } } }
    Reset-Run
    Invoke-MockControl $mock PUT throttling $throttling | Out-Null
    $throttledSeconds = Measure-Seconds { $users | Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction Continue 2>$null | Out-Null }
    $throttledStats = (Invoke-MockControl $mock GET throttling).stats

    # 4. Throttling model on: a fixed-concurrency client (what admins write by hand when the
    #    SDK is too slow), retrying 429s after Retry-After.
    Reset-Run
    Invoke-MockControl $mock PUT throttling $throttling | Out-Null
    $uri = "$($mock.BaseUrl)/beta/users/{0}/invalidateAllRefreshTokens"
    $fixedSeconds = Measure-Seconds {
        $users | ForEach-Object -ThrottleLimit $FixedConcurrency -Parallel {
            Invoke-RestMethod -Method Post -Uri ($using:uri -f $_) -Headers @{ Authorization = "Bearer $($using:token)" } -NoProxy -MaximumRetryCount 50 -RetryIntervalSec 1 | Out-Null
        }
    }
    $fixedStats = (Invoke-MockControl $mock GET throttling).stats

    $loadAfter = Get-LoadAverage
    $idealThrottledSeconds = ($Count - $Burst) / $QuotaPerSecond
    $report = @"
# Bulk revocation benchmark

Measured $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC on $([Environment]::ProcessorCount) cores, $([System.Runtime.InteropServices.RuntimeInformation]::OSDescription), PowerShell $($PSVersionTable.PSVersion), by ``pwsh -NoProfile -File bench/Measure-BulkRevocation.ps1`` (defaults: $Count users, $LatencyMs ms mock latency). Everything ran in one process against one mock server on loopback. Load average (1, 5, 15 min) before: $loadBefore; after: $loadAfter.

## Without throttling

| client | users | time (s) | users/s | HTTP requests |
| --- | ---: | ---: | ---: | ---: |
| this module, users piped | $Count | $('{0:N1}' -f $bulkSeconds) | $('{0:N0}' -f ($Count / $bulkSeconds)) | $bulkRequests |
| sequential loop, one request per user (the official module's way) | $sequentialUsers | $('{0:N1}' -f $sequentialSeconds) | $('{0:N1}' -f ($sequentialUsers / $sequentialSeconds)) | $sequentialUsers |

The sequential loop over all $Count users would take about **$('{0:N0}' -f $sequentialFull) s** (measured rate x $Count$(if ($sequentialUsers -lt $Count) { '; extrapolated from the users timed' })). The module is **$('{0:N0}' -f ($sequentialFull / $bulkSeconds))x faster**.

## With the throttling model

Quota: $QuotaPerSecond writes/s per app and tenant after a burst of $Burst (the shape of Entra's 3,000 writes per 150 s, scaled). The best possible time for $Count users is $('{0:N1}' -f $idealThrottledSeconds) s.

| client | time (s) | share of the quota used | 429 answers |
| --- | ---: | ---: | ---: |
| this module (JSON batches, paced at the quota's measured refill rate) | $('{0:N1}' -f $throttledSeconds) | $('{0:P0}' -f ($idealThrottledSeconds / $throttledSeconds)) | $($throttledStats.throttled) |
| fixed concurrency ($FixedConcurrency parallel Invoke-RestMethod, Retry-After honoured) | $('{0:N1}' -f $fixedSeconds) | $('{0:P0}' -f ($idealThrottledSeconds / $fixedSeconds)) | $($fixedStats.throttled) |
"@
    $out = Join-Path $PSScriptRoot 'results/bulk.md'
    New-Item -ItemType Directory -Path (Split-Path $out) -Force | Out-Null
    Set-Content -Path $out -Value $report
    $report
}
finally {
    Stop-GraphMock $mock
}
