# Thousands of piped users: concurrency, batching, retries, order, Ctrl+C and progress,
# against the mock with faults injected.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    $script:Users = 0..5199 | ForEach-Object { [pscustomobject]@{ Id = ('00000000-0000-4000-8000-{0:d12}' -f $_); UserPrincipalName = "bulk$_@contoso.com" } }
    for ($start = 0; $start -lt $Users.Count; $start += 1000) {
        $chunk = $Users[$start..([Math]::Min($start + 999, $Users.Count - 1))]
        Invoke-MockControl $Mock POST users @{ users = @($chunk | ForEach-Object { @{ id = $_.Id; userPrincipalName = $_.UserPrincipalName } }) } | Out-Null
    }
    $script:Token = New-MockToken $Mock
    Connect-GraphMock $Mock -Token $Token
    $script:Saved = Get-MgRequestContext
}

AfterAll {
    Set-MgRequestContext -MaxRetry $Saved.MaxRetry -RetryDelay $Saved.RetryDelay.TotalSeconds -RetriesTimeLimit $Saved.RetriesTimeLimit.TotalSeconds | Out-Null
    Stop-GraphMock $script:Mock
}

Describe 'bulk revocation' -Tag CI {
    BeforeEach {
        Clear-MockRequests $Mock
        Invoke-MockControl $Mock DELETE chaos | Out-Null
        Invoke-MockControl $Mock DELETE throttling | Out-Null
        Invoke-MockControl $Mock PUT latency @{ ms = 0 } | Out-Null
    }

    It 'gives exactly one outcome per input, in input order, through 10% throttling, 2% 503s and resets' {
        Set-MgRequestContext -MaxRetry 6 -RetryDelay 0 | Out-Null
        Invoke-MockControl $Mock POST chaos @{ throttleRate = 0.10; serviceUnavailableRate = 0.02; resetRate = 0.01; retryAfterSeconds = 0.05; seed = 7 } | Out-Null
        $piped = [System.Collections.Generic.List[string]]::new()
        foreach ($user in $Users[0..4999]) { $piped.Add($user.Id) }
        # Unknown users at known places: their errors must come out exactly there.
        $piped[10] = 'ghost10@contoso.com'
        $piped[2500] = 'ghost2500@contoso.com'
        $piped[4999] = 'ghost4999@contoso.com'

        $results = $piped | Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction Continue 2>&1
        $results.Count | Should -Be 5000
        for ($index = 0; $index -lt 5000; $index++) {
            if ($piped[$index] -like 'ghost*') {
                $results[$index] | Should -BeOfType [System.Management.Automation.ErrorRecord]
                $results[$index].TargetObject | Should -Be $piped[$index]
                $results[$index].FullyQualifiedErrorId | Should -BeLike 'Request_ResourceNotFound,*'
            }
            elseif ($results[$index] -isnot [bool] -or -not $results[$index]) {
                throw "item $index ($($piped[$index])) gave '$($results[$index])' instead of True"
            }
        }

        $revocations = Invoke-MockControl $Mock GET revocations
        foreach ($id in $piped) {
            if ($id -notlike 'ghost*' -and -not ($revocations.$id -ge 1)) { throw "$id was not revoked" }
        }
        $pipedSet = [System.Collections.Generic.HashSet[string]]::new([string[]]$piped)
        $strays = (Get-MockRequests $Mock) | Where-Object { $_.userId -and -not $pipedSet.Contains($_.userId) }
        $strays | Should -BeNullOrEmpty -Because 'no request may name a user that was not piped'
        (Invoke-MockControl $Mock GET chaos).stats.throttled | Should -BeGreaterThan 0
        ((Get-MockRequests $Mock) | Where-Object rawPath -EQ '/beta/$batch').Count | Should -BeGreaterThan 100
    }

    It 'waits out a throttling storm within RetriesTimeLimit, then reports each item that could not make it' {
        Set-MgRequestContext -RetriesTimeLimit 2 -RetryDelay 0 | Out-Null
        Invoke-MockControl $Mock PUT throttling @{ enabled = $true; limits = @{ appTenantWrites = @{ capacity = 20; windowSeconds = 2000 } } } | Out-Null
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $results = $Users[0..99].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction Continue 2>&1
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 15
        $results.Count | Should -Be 100
        $throttled = @($results | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $throttled.Count | Should -BeGreaterThan 50
        $throttled[0].FullyQualifiedErrorId | Should -BeLike 'TooManyRequests,*'
        $throttled[0].Exception.StatusCode | Should -Be 429
        @($results | Where-Object { $_ -is [bool] }).Count + $throttled.Count | Should -Be 100
    }

    It 'under a write quota, paces itself at the quota instead of collecting 429s' {
        # 100 writes at once, then 200 per second (Entra's shape, scaled). Sending full batches
        # as fast as answers come back gets most items refused: a naive client collects a 429
        # for well over half of them (crates/graph-core/tests/bulk.rs compares one).
        Invoke-MockControl $Mock PUT latency @{ ms = 20 } | Out-Null
        Invoke-MockControl $Mock PUT throttling @{ enabled = $true; limits = @{ appTenantWrites = @{ capacity = 100; windowSeconds = 0.5 } } } | Out-Null
        $results = $Users[0..999].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction Continue 2>&1
        $results.Count | Should -Be 1000
        @($results | Where-Object { $_ -is [bool] -and $_ }).Count | Should -Be 1000
        $stats = (Invoke-MockControl $Mock GET throttling).stats
        $stats.accepted | Should -Be 1000
        $stats.throttled | Should -BeLessThan 150 -Because 'after the first 429s the module sends at the rate the quota refills'
    }

    It 'isolates bad input inside a run: a null, a malformed id and a duplicate affect only their own items' {
        $a = $Users[0].Id; $b = $Users[1].Id
        $results = @($a, $null, '   ', $a, $b) | Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction SilentlyContinue -ErrorVariable failures
        @($results).Count | Should -Be 3
        $failures.Count | Should -Be 2
        ($failures.FullyQualifiedErrorId | Where-Object { $_ -like 'ParameterArgumentValidationErrorNullNotAllowed,*' }) | Should -Not -BeNullOrEmpty
        ($failures.FullyQualifiedErrorId | Where-Object { $_ -like 'InvalidUserId,*' }) | Should -Not -BeNullOrEmpty
        ((Get-MockRequests $Mock) | Where-Object userId -EQ $a).Count | Should -Be 2
    }

    It 'shows progress for a long run and none for a single user' {
        Invoke-MockControl $Mock PUT latency @{ ms = 500 } | Out-Null
        # The sign-in is process-wide, so a new runspace of this process only needs the module.
        $powershell = [powershell]::Create()
        $null = $powershell.AddCommand('Import-Module').AddArgument((Get-ModuleManifestPath)).AddStatement()
        $null = $powershell.AddCommand('Invoke-MgBetaInvalidateAllUserRefreshToken').AddParameter('UserId', $Users[0].Id)
        $powershell.Invoke() | Should -BeTrue
        $powershell.Streams.Progress.Count | Should -Be 0
        $powershell.Dispose()

        $powershell = [powershell]::Create()
        $null = $powershell.AddCommand('Import-Module').AddArgument((Get-ModuleManifestPath)).AddStatement()
        $null = $powershell.AddScript('param($ids) $ids | Invoke-MgBetaInvalidateAllUserRefreshToken').AddArgument([string[]]$Users[0..599].Id)
        $results = $powershell.Invoke()
        $results.Count | Should -Be 600
        $powershell.Streams.Progress.Count | Should -BeGreaterThan 0
        ($powershell.Streams.Progress | Where-Object StatusDescription -Like '*done*') | Should -Not -BeNullOrEmpty
        $powershell.Dispose()
    }

    # The stop can land while the pipeline thread is in the cmdlet (waiting for outcomes) or
    # elsewhere (an upstream command producing the next user): PowerShell may then dispose the
    # cmdlet before StopProcessing has run. Several runs of each kind, stopped at varied times.
    It 'stops within a second on Ctrl+C, sends nothing more, and says which users were not processed (<Name>)' -ForEach @(
        @{ Name = 'stopped while waiting for Graph'; LatencyMs = 300; Script = 'param($ids) $ids | Invoke-MgBetaInvalidateAllUserRefreshToken'; DelayMs = 0 }
        @{ Name = 'stopped while waiting for Graph, later'; LatencyMs = 300; Script = 'param($ids) $ids | Invoke-MgBetaInvalidateAllUserRefreshToken'; DelayMs = 150 }
        @{ Name = 'stopped upstream'; LatencyMs = 0; Script = 'param($ids) $ids | ForEach-Object { Start-Sleep -Milliseconds 1; $_ } | Invoke-MgBetaInvalidateAllUserRefreshToken'; DelayMs = 0 }
        @{ Name = 'stopped upstream, later'; LatencyMs = 0; Script = 'param($ids) $ids | ForEach-Object { Start-Sleep -Milliseconds 1; $_ } | Invoke-MgBetaInvalidateAllUserRefreshToken'; DelayMs = 70 }
        @{ Name = 'stopped upstream, later still'; LatencyMs = 0; Script = 'param($ids) $ids | ForEach-Object { Start-Sleep -Milliseconds 1; $_ } | Invoke-MgBetaInvalidateAllUserRefreshToken'; DelayMs = 140 }
        @{ Name = 'stopped upstream, at the latest'; LatencyMs = 0; Script = 'param($ids) $ids | ForEach-Object { Start-Sleep -Milliseconds 1; $_ } | Invoke-MgBetaInvalidateAllUserRefreshToken'; DelayMs = 210 }
    ) {
        Invoke-MockControl $Mock PUT latency @{ ms = $LatencyMs } | Out-Null
        $powershell = [powershell]::Create()
        $null = $powershell.AddCommand('Import-Module').AddArgument((Get-ModuleManifestPath)).AddStatement()
        $null = $powershell.AddScript($Script).AddArgument([string[]]$Users[0..3999].Id)
        $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $noInput.Complete()
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $handle = $powershell.BeginInvoke($noInput, $output)
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ($output.Count -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $output.Count | Should -BeGreaterThan 0 -Because 'the run started'
        Start-Sleep -Milliseconds $DelayMs
        # PowerShell.Stop is what Ctrl+C does: StopProcessing on another thread, then wait.
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $powershell.Stop()
        $handle.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
        $sentAtStop = (Get-MockRequests $Mock).Count
        Start-Sleep -Milliseconds 800
        (Get-MockRequests $Mock).Count | Should -Be $sentAtStop -Because 'nothing is sent once stopped'

        $summary = $powershell.Runspace.SessionStateProxy.GetVariable('MgBetaRevocationStopped')
        $powershell.Dispose()
        $summary | Should -Not -BeNullOrEmpty -Because 'a run stopped midway always leaves its summary'
        $summary.Submitted | Should -BeGreaterThan 0
        $summary.Processed + $summary.NotProcessed.Count | Should -Be $summary.Submitted
        $summary.Written | Should -BeLessOrEqual $summary.Processed
        $summary.Written | Should -BeGreaterOrEqual $output.Count
        $revokedInRun = @((Get-MockRequests $Mock) | Where-Object { $_.userId -and $_.status -eq 200 }).Count
        $revokedInRun | Should -BeLessThan 4000 -Because 'the run was cut short'
        $revokedInRun | Should -BeGreaterOrEqual $output.Count -Because 'every True written was a revocation on the server'
    }
}
