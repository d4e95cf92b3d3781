BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    $script:Adele = Add-MockUser $Mock 'adele.vance@contoso.com'
    $script:Guest = Add-MockUser $Mock 'megan_fabrikam.com#EXT#@contoso.onmicrosoft.com'
    $script:Dollar = Add-MockUser $Mock '$svc@contoso.com'
    $script:Token = New-MockToken $Mock
    Connect-GraphMock $Mock -Token $Token
}

AfterAll {
    Stop-GraphMock $script:Mock
}

Describe 'Invoke-MgBetaInvalidateAllUserRefreshToken' -Tag CI {
    BeforeEach { Clear-MockRequests $Mock }

    Context 'a successful call' {
        It 'returns a boolean true that also answers .Value' {
            $result = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.UserPrincipalName
            $result | Should -BeOfType [bool]
            $result | Should -BeTrue
            $result.Value | Should -BeTrue
            ($result -eq $true) | Should -BeTrue
        }

        It 'sends exactly one POST to the user''s invalidateAllRefreshTokens path' {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id | Out-Null
            $requests = Get-MockRequests $Mock
            $requests.Count | Should -Be 1
            $requests[0].method | Should -Be 'POST'
            $requests[0].rawPath | Should -Be "/beta/users/$($Adele.Id)/invalidateAllRefreshTokens"
            $requests[0].status | Should -Be 200
        }

        It 'sends the bearer token, a fresh client-request-id and a User-Agent naming the module' {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id | Out-Null
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id | Out-Null
            $requests = Get-MockRequests $Mock
            $requests[0].headers.authorization | Should -BeExactly "Bearer $Token"
            $requests[0].headers.'client-request-id' | Should -Match '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
            $requests[1].headers.'client-request-id' | Should -Not -Be $requests[0].headers.'client-request-id'
            $version = [regex]::Escape((Import-PowerShellDataFile (Get-ModuleManifestPath)).ModuleVersion)
            $requests[0].headers.'user-agent' | Should -Match "^Microsoft\.Graph\.Beta\.Users\.Actions/$version \(.+\) PowerShell/7\."
        }
    }

    Context 'addressing' {
        It 'sends # of a guest UPN as %23 and reaches that user' {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Guest.UserPrincipalName | Should -BeTrue
            $request = (Get-MockRequests $Mock)[0]
            $request.rawPath | Should -Be '/beta/users/megan_fabrikam.com%23EXT%23@contoso.onmicrosoft.com/invalidateAllRefreshTokens'
            $request.userId | Should -Be $Guest.UserPrincipalName
        }

        It 'sends a $-prefixed UPN in the users(''...'') key form and reaches that user' {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Dollar.UserPrincipalName | Should -BeTrue
            $request = (Get-MockRequests $Mock)[0]
            $request.rawPath | Should -Be "/beta/users('`$svc@contoso.com')/invalidateAllRefreshTokens"
            $request.userId | Should -Be $Dollar.UserPrincipalName
        }

        It 'keeps <Id> inside one encoded path segment' -TestCases @(
            @{ Id = 'x/../../groups'; Encoded = 'x%2F..%2F..%2Fgroups' }
            @{ Id = 'a?b'; Encoded = 'a%3Fb' }
        ) {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Id -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
            $failures.Count | Should -Be 1
            $request = (Get-MockRequests $Mock)[0]
            $request.rawPath | Should -Be "/beta/users/$Encoded/invalidateAllRefreshTokens"
            $request.userId | Should -Be $Id
            $request.status | Should -Be 404
        }
    }

    Context 'errors' {
        It 'turns a 404 into a non-terminating error naming the user, the Graph code and the request-id' {
            $output = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId 'nobody@contoso.com' -ErrorAction SilentlyContinue -ErrorVariable failures
            $output | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failure = $failures[0]
            $failure.FullyQualifiedErrorId | Should -BeLike 'Request_ResourceNotFound,*'
            $failure.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $failure.TargetObject | Should -Be 'nobody@contoso.com'
            $failure.Exception.Message | Should -BeLike '`[Request_ResourceNotFound`] : *nobody@contoso.com*'
            $requestId = (Get-MockRequests $Mock)[0]
            $failure.Exception.StatusCode | Should -Be 404
            $failure.Exception.Code | Should -Be 'Request_ResourceNotFound'
            $failure.Exception.RequestId | Should -Match '^[0-9a-f-]{36}$'
            $failure.Exception.Message | Should -BeLike "*request-id: $($failure.Exception.RequestId)*"
            $failure.Exception.ClientRequestId | Should -Be $requestId.headers.'client-request-id'
        }

        It 'keeps going after a failed item when errors are not terminating' {
            $results = 'nobody@contoso.com', $Adele.UserPrincipalName | ForEach-Object {
                Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $_ -ErrorAction SilentlyContinue
            }
            @($results).Count | Should -Be 1
            $results | Should -BeTrue
        }

        It 'throws with -ErrorAction Stop, so try/catch scripts work' {
            { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId 'nobody@contoso.com' -ErrorAction Stop } |
                Should -Throw -ErrorId 'Request_ResourceNotFound,Microsoft.Graph.Beta.PowerShell.Cmdlets.InvokeMgBetaInvalidateAllUserRefreshToken'
        }

        It 'reports a token without the permission as 403 Authorization_RequestDenied' {
            Connect-GraphMock $Mock -Token (New-MockToken $Mock -Roles @('User.Read.All'))
            try {
                Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
                $failures[0].FullyQualifiedErrorId | Should -BeLike 'Authorization_RequestDenied,*'
                $failures[0].Exception.StatusCode | Should -Be 403
            }
            finally {
                Connect-GraphMock $Mock -Token $Token
            }
        }

        It 'refuses a whitespace user id without sending anything' {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId '   ' -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidUserId,*'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            (Get-MockRequests $Mock).Count | Should -Be 0
        }
    }

    Context 'without Connect-MgGraph' {
        It 'fails with a clear error and sends nothing' {
            Disconnect-MgGraph | Out-Null
            try {
                { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id } |
                    Should -Throw -ExpectedMessage '*Connect-MgGraph*' -ErrorId 'AuthenticationNeeded,*'
                (Get-MockRequests $Mock).Count | Should -Be 0
            }
            finally {
                Connect-GraphMock $Mock -Token $Token
            }
        }
    }

    Context '-WhatIf' {
        It 'sends nothing and writes nothing' {
            $output = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -WhatIf
            $output | Should -BeNullOrEmpty
            (Get-MockRequests $Mock).Count | Should -Be 0
        }
    }
}
