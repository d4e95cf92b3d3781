# Revoke-MgBetaUserSignInSession against the mock in this pwsh: the newer name of the same
# operation, on the same engine as Invoke-MgBetaInvalidateAllUserRefreshToken. Every request
# must name revokeSignInSessions, never the other action.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    $script:Users = 0..299 | ForEach-Object { [pscustomobject]@{ Id = ('00000000-0000-4000-9000-{0:d12}' -f $_); UserPrincipalName = "signin$_@contoso.com" } }
    Invoke-MockControl $Mock POST users @{ users = @($Users | ForEach-Object { @{ id = $_.Id; userPrincipalName = $_.UserPrincipalName } }) } | Out-Null
    $script:Token = New-MockToken $Mock -Roles 'User.RevokeSessions.All', 'User.Read.All'
    Connect-GraphMock $Mock -Token $Token
    $script:Folder = Join-Path ([System.IO.Path]::GetTempPath()) "signin-session-tests-$([guid]::NewGuid().ToString('n'))"
    New-Item -ItemType Directory -Path $Folder | Out-Null

    function script:Get-Revocations {
        # Revocation requests the mock saw (plain POSTs and batch items), oldest first.
        @(Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object { $_.method -eq 'POST' -and $_.rawPath -ne '/beta/$batch' })
    }
}

AfterAll {
    Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    Stop-GraphMock $script:Mock
    Remove-Item -Recurse -Force $Folder -ErrorAction SilentlyContinue
}

Describe 'Revoke-MgBetaUserSignInSession' -Tag CI {
    BeforeEach {
        Clear-MockRequests $Mock
        Invoke-MockControl $Mock PUT latency @{ ms = 0 } | Out-Null
        Invoke-MockControl $Mock PUT sessions @{ replicationLagMs = 0; ineffective = @() } | Out-Null
    }

    It 'signs one user out with POST /beta/users/{id}/revokeSignInSessions and outputs True' {
        $result = Revoke-MgBetaUserSignInSession -UserId $Users[0].UserPrincipalName
        $result | Should -BeOfType [bool]
        $result | Should -BeTrue
        $sent = Get-Revocations
        $sent.rawPath | Should -Be @("/beta/users/$($Users[0].UserPrincipalName)/revokeSignInSessions")
        (Invoke-MockControl $Mock GET revocations).($Users[0].Id) | Should -BeGreaterOrEqual 1
    }

    It 'revokes 300 piped users in input order, in batches of revokeSignInSessions items, with an error only for the unknown user' {
        # Users share a batch while requests are in flight: a little latency, as on a network.
        Invoke-MockControl $Mock PUT latency @{ ms = 20 } | Out-Null
        $piped = @($Users.Id)
        $piped[150] = 'ghost150@contoso.com'
        $results = @($piped | Revoke-MgBetaUserSignInSession -ErrorAction Continue 2>&1)
        $results.Count | Should -Be 300
        for ($index = 0; $index -lt 300; $index++) {
            if ($index -eq 150) {
                $results[$index] | Should -BeOfType [System.Management.Automation.ErrorRecord]
                $results[$index].FullyQualifiedErrorId | Should -BeLike 'Request_ResourceNotFound,*'
                $results[$index].TargetObject | Should -Be 'ghost150@contoso.com'
            }
            elseif ($results[$index] -isnot [bool] -or -not $results[$index]) {
                throw "item $index gave '$($results[$index])' instead of True"
            }
        }
        $sent = Get-Revocations
        $sent.Count | Should -Be 300
        @($sent | Where-Object { $_.rawPath -notlike '*/revokeSignInSessions' }) | Should -BeNullOrEmpty
        @($sent | Where-Object batchId).Count | Should -BeGreaterThan 100 -Because 'piped users travel in JSON batches'
    }

    It 'takes identities from the pipeline: hashtables, user objects and strings' {
        $results = @(@{ UserId = $Users[1].Id }, $Users[2], $Users[3].UserPrincipalName) | Revoke-MgBetaUserSignInSession
        @($results) | Should -Be @($true, $true, $true)
        (Get-Revocations).userId | Sort-Object | Should -Be (@($Users[1].Id, $Users[2].Id, $Users[3].UserPrincipalName) | Sort-Object)
    }

    It '-WhatIf names revokeSignInSessions and sends nothing' {
        $whatIf = Revoke-MgBetaUserSignInSession -UserId $Users[4].Id -WhatIf 6>&1 | Out-String
        Get-Revocations | Should -BeNullOrEmpty
        # The What if: line goes to the host; -WhatIf must at least send nothing and output nothing.
        $whatIf | Should -Not -Match 'True'
    }

    It 'sends -Headers and sets -ResponseHeadersVariable' {
        $result = Revoke-MgBetaUserSignInSession -UserId $Users[5].Id -Headers @{ 'x-incident-id' = 'IR-4711' } -ResponseHeadersVariable signInHeaders
        $result | Should -BeTrue
        (Get-Revocations)[0].headers.'x-incident-id' | Should -Be 'IR-4711'
        $global:signInHeaders['request-id'] | Should -Not -BeNullOrEmpty
    }

    It '-Verify reads the user back and -JournalPath records the action' {
        $journal = Join-Path $Folder 'signin.jsonl'
        $results = @($Users[10..29].Id | Revoke-MgBetaUserSignInSession -Verify -JournalPath $journal -InformationAction SilentlyContinue)
        $results.Count | Should -Be 20
        $results | Should -Not -Contain $false
        $records = @(Get-Content $journal | ConvertFrom-Json)
        $records.Count | Should -Be 20
        @($records | Where-Object outcome -EQ 'verified').Count | Should -Be 20
        @($records | Where-Object action -NE 'revokeSignInSessions') | Should -BeNullOrEmpty
        # A rerun of the same action skips them all; the other action's run does not.
        Clear-MockRequests $Mock
        @($Users[10..29].Id | Revoke-MgBetaUserSignInSession -JournalPath $journal -InformationAction SilentlyContinue).Count | Should -Be 20
        Get-Revocations | Should -BeNullOrEmpty
        @($Users[10..29].Id | Invoke-MgBetaInvalidateAllUserRefreshToken -JournalPath $journal -InformationAction SilentlyContinue).Count | Should -Be 20
        @(Get-Revocations | Where-Object rawPath -Like '*/invalidateAllRefreshTokens').Count | Should -Be 20
    }

    It 'refuses a malformed id before sending, as a non-terminating InvalidArgument error' {
        $results = @('   ', $Users[6].Id) | Revoke-MgBetaUserSignInSession -ErrorAction SilentlyContinue -ErrorVariable failures
        @($results) | Should -Be @($true)
        $failures.Count | Should -Be 1
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        (Get-Revocations).userId | Should -Be @($Users[6].Id)
    }

    It 'says to call Connect-MgGraph when nobody is connected' {
        $child = pwsh -NoProfile -NonInteractive -Command "Import-Module '$(Get-ModuleManifestPath)'; try { Revoke-MgBetaUserSignInSession -UserId a@contoso.com -ErrorAction Stop; 'no error' } catch { `$_.FullyQualifiedErrorId + '|' + `$_.CategoryInfo.Category + '|' + `$_.Exception.Message }"
        $id, $category, $message = "$child" -split '\|'
        $id | Should -BeLike 'Authentication*'
        $category | Should -Be 'AuthenticationError'
        $message | Should -Match 'Connect-MgGraph'
    }
}
