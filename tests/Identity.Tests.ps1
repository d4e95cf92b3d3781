BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    $script:Adele = Add-MockUser $Mock 'adele.vance@contoso.com'
    $script:Megan = Add-MockUser $Mock 'megan.bowen@contoso.com'
    Connect-GraphMock $Mock
}

AfterAll {
    Stop-GraphMock $script:Mock
}

Describe 'Invoke-MgBetaInvalidateAllUserRefreshToken -InputObject' -Tag CI {
    BeforeEach { Clear-MockRequests $Mock }

    It 'binds <Label> from the pipeline and reaches the user' -ForEach @(
        @{ Label = 'a @{UserId} hashtable'; Make = { param($user) @{ UserId = $user.UserPrincipalName } } }
        @{ Label = 'an object with UserId'; Make = { param($user) [pscustomobject]@{ UserId = $user.Id } } }
        @{ Label = 'a user object with Id'; Make = { param($user) [pscustomobject]@{ Id = $user.Id; DisplayName = 'Adele Vance'; UserPrincipalName = 'ignored@contoso.com' } } }
        @{ Label = 'a CSV row with UserPrincipalName'; Make = { param($user) "UserPrincipalName,Department`n$($user.UserPrincipalName),Sales" | ConvertFrom-Csv } }
        @{ Label = 'a plain string'; Make = { param($user) $user.UserPrincipalName } }
        @{ Label = 'an identity object'; Make = { param($user) [Microsoft.Graph.Beta.PowerShell.Models.UsersActionsIdentity]@{ UserId = $user.Id } } }
    ) {
        $result = & $Make $Adele | Invoke-MgBetaInvalidateAllUserRefreshToken
        $result | Should -BeTrue
        $request = (Get-MockRequests $Mock)[0]
        $request.status | Should -Be 200
        $Mock | Should -Not -BeNullOrEmpty
        (Invoke-MockControl $Mock GET revocations).($Adele.Id) | Should -BeGreaterThan 0
    }

    It 'accepts -InputObject by name' {
        Invoke-MgBetaInvalidateAllUserRefreshToken -InputObject @{ UserId = $Adele.Id } | Should -BeTrue
    }

    It 'gives one result per piped item, in input order' {
        $results = @(@{ UserId = $Adele.Id }, @{ UserId = 'nobody@contoso.com' }, @{ UserId = $Megan.Id }) |
            Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction Continue 2>&1
        $results.Count | Should -Be 3
        $results[0] | Should -BeTrue
        $results[1].TargetObject | Should -Be 'nobody@contoso.com'
        $results[2] | Should -BeTrue
        # Piped items may travel alone or in a $batch; each reaches its user exactly once.
        @((Get-MockRequests $Mock) | Where-Object userId -EQ $Megan.Id).Count | Should -Be 1
    }

    It 'does not send the piped hashtable as request headers' {
        @{ UserId = $Adele.Id } | Invoke-MgBetaInvalidateAllUserRefreshToken | Out-Null
        (Get-MockRequests $Mock)[0].headers.PSObject.Properties.Name | Should -Not -Contain 'userid'
    }

    It 'stops with the official error when an identity has no user' {
        $failure = $null
        try { @{ DisplayName = 'nobody' } | Invoke-MgBetaInvalidateAllUserRefreshToken } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.Exception.Message | Should -Be 'InputObject has null value for InputObject.UserId'
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.TargetObject | Should -BeOfType [Microsoft.Graph.Beta.PowerShell.Models.IUsersActionsIdentity]
        (Get-MockRequests $Mock).Count | Should -Be 0
    }

    It 'reports a null item in a piped list and still processes the others' {
        $results = @($Adele.UserPrincipalName, $null, $Megan.UserPrincipalName) |
            Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction SilentlyContinue -ErrorVariable failures
        @($results).Count | Should -Be 2
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationErrorNullNotAllowed,*'
        # Counted per user: piped users may travel as plain POSTs or inside one $batch.
        $revoked = (Get-MockRequests $Mock) | Where-Object userId
        @($revoked).Count | Should -Be 2
        @($revoked.userId | Sort-Object -Unique).Count | Should -Be 2
    }

    It 'processes a duplicate user once per occurrence' {
        $results = @($Adele.Id, $Adele.Id) | Invoke-MgBetaInvalidateAllUserRefreshToken
        @($results).Count | Should -Be 2
        @((Get-MockRequests $Mock) | Where-Object userId -EQ $Adele.Id).Count | Should -Be 2
        @((Get-MockRequests $Mock) | Where-Object { $_.userId -and $_.userId -ne $Adele.Id }).Count | Should -Be 0
    }
}
