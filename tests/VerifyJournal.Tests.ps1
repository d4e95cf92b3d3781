# -Verify (the revocation read back) and -JournalPath (evidence, and resumable bulk runs),
# against the mock: journal records, reruns that send nothing, a run killed with SIGKILL and
# rerun to completion, torn lines, -WhatIf, lag and revocations that do not take effect.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Manifest = Get-ModuleManifestPath
    Import-Module $Manifest -Force
    $script:Mock = Start-GraphMock
    $script:Users = 0..2999 | ForEach-Object { [pscustomobject]@{ Id = ('00000000-0000-4000-8000-{0:d12}' -f $_); UserPrincipalName = "journal$_@contoso.com" } }
    for ($start = 0; $start -lt $Users.Count; $start += 1000) {
        $chunk = $Users[$start..([Math]::Min($start + 999, $Users.Count - 1))]
        Invoke-MockControl $Mock POST users @{ users = @($chunk | ForEach-Object { @{ id = $_.Id; userPrincipalName = $_.UserPrincipalName } }) } | Out-Null
    }
    # Reading users back needs a read permission beside the revoke one, as on Graph.
    $script:Token = New-MockToken $Mock -Roles 'User.RevokeSessions.All', 'User.Read.All'
    Connect-GraphMock $Mock -Token $Token
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "journal-tests-$([guid]::NewGuid().ToString('n'))"
    New-Item -ItemType Directory -Path $Folder | Out-Null

    function script:Read-Journal {
        # Every complete record; a line that is not JSON (a torn last line) is left out.
        param([Parameter(Mandatory)] [string] $Path)
        foreach ($line in [System.IO.File]::ReadAllLines($Path)) {
            if (-not $line.Trim()) { continue }
            try { $line | ConvertFrom-Json } catch { }
        }
    }

    function script:Get-Requests {
        # One object per request the mock saw (batch items included), oldest first.
        Get-MockRequests $Mock | ForEach-Object { $_ }
    }

    function script:Get-SentRevocations {
        # The users whose revocation reached the mock (plain POSTs and batch items).
        @(Get-Requests | Where-Object { $_.method -eq 'POST' -and $_.rawPath -like '*/invalidateAllRefreshTokens' } | ForEach-Object userId)
    }

    function script:New-JournalPath { Join-Path $Folder "$([guid]::NewGuid().ToString('n')).jsonl" }

    function script:Start-Child {
        # A new pwsh that connects to the mock and runs $Body; output and errors go to files.
        param([Parameter(Mandatory)] [string] $Body, [Parameter(Mandatory)] [string] $OutFile)
        $script = Join-Path $Folder "$([guid]::NewGuid().ToString('n')).ps1"
        @"
`$ErrorActionPreference = 'Continue'
Import-Module '$Manifest'
Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null
Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString '$Token' -AsPlainText -Force) -NoWelcome
$Body
"@ | Set-Content -Path $script
        # In a process group of its own (setsid), so that SIGKILL reaches every process of it (the
        # pwsh global tool runs PowerShell in a child process); output goes straight to files.
        $start = [System.Diagnostics.ProcessStartInfo]::new('setsid')
        foreach ($argument in 'sh', '-c', 'exec pwsh -NoProfile -NonInteractive -File "$1" > "$2" 2> "$2.err"', 'sh', $script, $OutFile) { $start.ArgumentList.Add($argument) }
        $start.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($start)
    }
}

AfterAll {
    Stop-GraphMock $script:Mock
    Remove-Item -Recurse -Force $Folder -ErrorAction SilentlyContinue
}

Describe '-JournalPath' -Tag CI {
    BeforeEach {
        Clear-MockRequests $Mock
        Invoke-MockControl $Mock PUT sessions @{ replicationLagMs = 0; ineffective = @() } | Out-Null
        Invoke-MockControl $Mock PUT latency @{ ms = 0 } | Out-Null
        Invoke-MockControl $Mock DELETE throttling | Out-Null
    }

    It 'records one line per user with user, outcome, at, status and requestId, owner-only and without secrets' {
        $journal = New-JournalPath
        $piped = @($Users[0..19].Id) + 'ghost-a@contoso.com'
        $results = $piped | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal -ErrorAction SilentlyContinue -ErrorVariable failures
        @($results).Count | Should -Be 20
        $failures.Count | Should -Be 1
        $records = @(Read-Journal $journal)
        $records.Count | Should -Be 21
        @($records | Where-Object outcome -EQ 'revoked').user | Sort-Object | Should -Be ($Users[0..19].Id | Sort-Object)
        $failed = $records | Where-Object outcome -EQ 'failed'
        $failed.user | Should -Be 'ghost-a@contoso.com'
        $failed.status | Should -Be 404
        $failed.code | Should -Be 'Request_ResourceNotFound'
        foreach ($record in $records) {
            $record.requestId | Should -Not -BeNullOrEmpty
            $record.endpoint | Should -Be $Mock.BaseUrl
            # ConvertFrom-Json turns ISO 8601 into DateTime; the text must say UTC.
            ([System.IO.File]::ReadAllText($journal)) | Should -Match ('"at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"')
        }
        (Get-Content -Raw $journal) | Should -Not -Match ([regex]::Escape($Token.Substring(0, 40)))
        (Get-Content -Raw $journal) | Should -Not -Match 'Bearer'
        if (-not $IsWindows) { (Get-Item $journal).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite') }
    }

    It 'reruns without sending anything for users it records, says so, and retries the failed one' {
        $journal = New-JournalPath
        $piped = @($Users[20..39].Id) + 'late@contoso.com'
        $piped | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal -ErrorAction SilentlyContinue | Out-Null
        # The user that failed (unknown) exists now: the rerun must send it, and only it.
        $late = Add-MockUser $Mock -UserPrincipalName 'late@contoso.com'
        Clear-MockRequests $Mock
        $all = $piped | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal -Verbose 4>&1 6>&1
        $results = @($all | Where-Object { $_ -is [bool] })
        $results.Count | Should -Be 21
        $results | Should -Not -Contain $false
        Get-SentRevocations | Should -Be @('late@contoso.com')
        @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like '*recorded as revoked in the journal*' }).Count | Should -Be 20
        $summary = @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })
        $summary.Count | Should -Be 1
        "$($summary[0].MessageData)" | Should -Be 'Revocation summary: 1 revoked, 0 verified, 20 skipped (recorded in the journal), 0 failed.'
        (Invoke-MockControl $Mock GET revocations).($late.Id) | Should -Be 1
        @(Read-Journal $journal | Where-Object { $_.user -eq 'late@contoso.com' }).outcome | Should -Be @('failed', 'revoked')
    }

    It 'skips only records of the same Graph endpoint' {
        $journal = New-JournalPath
        $record = @{ user = $Users[40].Id; outcome = 'revoked'; at = '2026-01-01T00:00:00Z'; endpoint = 'https://graph.microsoft.com' } | ConvertTo-Json -Compress
        Set-Content -Path $journal -Value $record
        $Users[40].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal | Should -BeTrue
        Get-SentRevocations | Should -Be @($Users[40].Id)
    }

    It 'ignores a torn last line and starts the next record on a line of its own' {
        $journal = New-JournalPath
        $Users[41..43].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal | Out-Null
        # What SIGKILL in the middle of a write would leave: half a record, no newline.
        [System.IO.File]::AppendAllText($journal, "{`"user`":`"$($Users[44].Id)`",`"outcome`":`"revo")
        Clear-MockRequests $Mock
        $results = $Users[41..44].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal
        @($results).Count | Should -Be 4
        Get-SentRevocations | Should -Be @($Users[44].Id)
        $lines = [System.IO.File]::ReadAllLines($journal)
        $lines.Count | Should -Be 5
        { $lines[3] | ConvertFrom-Json } | Should -Throw
        ($lines[4] | ConvertFrom-Json).user | Should -Be $Users[44].Id
    }

    It '-WhatIf neither sends nor writes the journal' {
        $journal = New-JournalPath
        $Users[45..47].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal -Verify -WhatIf
        Test-Path $journal | Should -BeFalse
        Get-SentRevocations | Should -BeNullOrEmpty
    }

    It 'refuses a journal path that is a symbolic link or a folder, before sending anything' -Skip:$IsWindows {
        $target = New-JournalPath
        Set-Content -Path $target -Value ''
        $link = New-JournalPath
        New-Item -ItemType SymbolicLink -Path $link -Target $target | Out-Null
        foreach ($path in $link, $Folder) {
            $caught = $null
            try { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Users[48].Id -JournalPath $path -ErrorAction Stop }
            catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -BeLike 'JournalPathRefused,*'
            $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $caught.Exception.Message | Should -Match 'pass the path of'
        }
        Get-SentRevocations | Should -BeNullOrEmpty
        (Get-Content -Raw $target).Trim() | Should -BeNullOrEmpty
    }

    It 'killed with SIGKILL mid-run, a rerun completes it without resending anyone it journaled' -Skip:$IsWindows {
        $journal = New-JournalPath
        $batch = $Users[1000..2999]
        Set-Content -Path (Join-Path $Folder 'ids.txt') -Value $batch.Id
        # A write quota of 100 a second makes the run last about 20 s: long enough to be killed
        # in the middle.
        Invoke-MockControl $Mock PUT throttling @{ enabled = $true; limits = @{ appTenantWrites = @{ capacity = 50; windowSeconds = 0.5 } } } | Out-Null
        $out = Join-Path $Folder 'killed.txt'
        $child = Start-Child -OutFile $out -Body "Get-Content '$(Join-Path $Folder 'ids.txt')' | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath '$journal'"
        $waited = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not ((Test-Path $journal) -and ([System.IO.File]::ReadAllLines($journal).Count -ge 400))) {
            if ($child.HasExited) { throw "the child ended before it could be killed: $(Get-Content -Raw "$out.err")" }
            if ($waited.Elapsed.TotalSeconds -gt 120) { throw 'the child journaled nothing' }
            Start-Sleep -Milliseconds 20
        }
        & kill -KILL -- "-$($child.Id)"
        $child.WaitForExit()
        # Every process of the group is gone: the journal no longer changes.
        $lines = [System.IO.File]::ReadAllLines($journal).Count
        Start-Sleep -Milliseconds 500
        [System.IO.File]::ReadAllLines($journal).Count | Should -Be $lines
        $journaled = @(Read-Journal $journal | Where-Object outcome -EQ 'revoked' | ForEach-Object user)
        $journaled.Count | Should -BeLessThan 2000 -Because 'the run was killed before the end'
        # Outputs are written only after their record: the child printed no more than it journaled.
        @(Get-Content $out | Where-Object { $_ -eq 'True' }).Count | Should -BeLessOrEqual $journaled.Count

        Invoke-MockControl $Mock DELETE throttling | Out-Null
        Clear-MockRequests $Mock
        $rerunOut = Join-Path $Folder 'rerun.txt'
        $rerun = Start-Child -OutFile $rerunOut -Body "Get-Content '$(Join-Path $Folder 'ids.txt')' | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath '$journal'"
        $rerun.WaitForExit()
        $rerun.ExitCode | Should -Be 0 -Because (Get-Content -Raw "$rerunOut.err")
        @(Get-Content $rerunOut | Where-Object { $_ -eq 'True' }).Count | Should -Be 2000

        $journaledSet = [System.Collections.Generic.HashSet[string]]::new([string[]]$journaled)
        @(Get-SentRevocations | Where-Object { $journaledSet.Contains($_) }) | Should -BeNullOrEmpty -Because 'nobody journaled is sent again'
        $revocations = Invoke-MockControl $Mock GET revocations
        foreach ($user in $batch) {
            if (-not ($revocations.($user.Id) -ge 1)) { throw "$($user.Id) was never revoked" }
        }
        foreach ($id in $journaled) {
            if ($revocations.$id -ne 1) { throw "$id was journaled yet revoked $($revocations.$id) times" }
        }
        $done = @(Read-Journal $journal | Where-Object outcome -EQ 'revoked' | ForEach-Object user | Sort-Object -Unique)
        $done.Count | Should -Be 2000
    }
}

Describe '-Verify' -Tag CI {
    BeforeEach {
        Clear-MockRequests $Mock
        Invoke-MockControl $Mock PUT sessions @{ replicationLagMs = 0; ineffective = @() } | Out-Null
        Invoke-MockControl $Mock PUT latency @{ ms = 0 } | Out-Null
        Invoke-MockControl $Mock DELETE throttling | Out-Null
    }

    It 'outputs True once the user read back shows the revocation' {
        $user = $Users[100]
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $user.UserPrincipalName -Verify | Should -BeTrue
        $reads = @(Get-Requests | Where-Object method -EQ 'GET')
        $reads.Count | Should -Be 1
        $reads[0].rawPath | Should -Be "/beta/users/$($user.UserPrincipalName)"
        $reads[0].query | Should -Be '$select=id,signInSessionsValidFromDateTime'
    }

    It 'reads again while replication lag shows the old value' {
        Invoke-MockControl $Mock PUT sessions @{ replicationLagMs = 2000; ineffective = @() } | Out-Null
        $journal = New-JournalPath
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Users[101].Id -Verify -JournalPath $journal | Should -BeTrue
        @(Get-Requests | Where-Object method -EQ 'GET').Count | Should -BeGreaterThan 1
        $record = Read-Journal $journal
        $record.outcome | Should -Be 'verified'
        $record.id | Should -Be $Users[101].Id
        [System.IO.File]::ReadAllText($journal) | Should -Match '"revokedAt":"[^"]+Z","signInSessionsValidFrom":"[^"]+Z"'
    }

    It 'reports a revocation that did not take effect, naming the user and both times, and outputs nothing for it' {
        $user = $Users[102]
        Invoke-MockControl $Mock PUT sessions @{ replicationLagMs = 0; ineffective = @($user.UserPrincipalName) } | Out-Null
        $journal = New-JournalPath
        $results = @($Users[103].Id, $user.Id) | Invoke-MgBetaInvalidateAllUserRefreshToken -Verify -JournalPath $journal -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        @($results).Count | Should -Be 1
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RevocationNotConfirmed,*'
        $failures[0].TargetObject | Should -Be $user.Id
        $failures[0].Exception.Message | Should -Match ([regex]::Escape($user.Id))
        $failures[0].Exception.Message | Should -Match '2024-01-01T00:00:00Z'
        $failures[0].Exception.Message | Should -Match 'revocation time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'
        @(Read-Journal $journal | ForEach-Object outcome | Sort-Object) | Should -Be @('notConfirmed', 'verified')
    }

    It 'verifies 500 piped users with batched reads' {
        $journal = New-JournalPath
        $all = $Users[200..699].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -Verify -JournalPath $journal 6>&1
        $results = @($all | Where-Object { $_ -is [bool] })
        $results.Count | Should -Be 500
        $results | Should -Not -Contain $false
        "$(@($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })[0].MessageData)" | Should -Be 'Revocation summary: 0 revoked, 500 verified, 0 skipped (recorded in the journal), 0 failed.'
        $requests = Get-Requests
        @($requests | Where-Object method -EQ 'GET').Count | Should -BeGreaterOrEqual 500
        $batched = @($requests | Where-Object { $_.method -eq 'GET' -and $null -ne $_.batchId })
        $batched.Count | Should -BeGreaterThan 400 -Because 'reads travel in batches'
        @($batched | ForEach-Object batchId | Sort-Object -Unique).Count | Should -BeLessThan 100 -Because 'up to 20 reads share a batch'
        @(Read-Journal $journal | Where-Object outcome -EQ 'verified').Count | Should -Be 500
    }

    It 'does not confirm when the revocation time is unknown (an unreadable Date header), and says why' {
        Invoke-MockControl $Mock POST faults @{ match = @{ userId = $Users[104].Id }; kind = 'status'; status = 204; headers = @{ Date = 'not a date' }; times = 1 } | Out-Null
        $result = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Users[104].Id -Verify -ErrorAction SilentlyContinue -ErrorVariable failures 6>$null
        $result | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RevocationNotConfirmed,*'
        $failures[0].Exception.Message | Should -Match "unreadable Date header \('not a date'\), so the revocation time is unknown"
        @(Get-Requests | Where-Object method -EQ 'GET') | Should -BeNullOrEmpty -Because 'nothing can be compared with an unknown time'
    }
}
