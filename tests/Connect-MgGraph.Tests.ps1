BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    Add-MgEnvironment -Name Mock -GraphEndpoint $Mock.BaseUrl -AzureADEndpoint $Mock.BaseUrl | Out-Null
}

AfterAll {
    Stop-GraphMock $script:Mock
}

Describe 'Connect-MgGraph -AccessToken' -Tag CI {
    It 'connects and shows the token''s tenant, app and roles in Get-MgContext' {
        $token = New-MockToken $Mock
        Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $token -AsPlainText -Force) -NoWelcome
        $context = Get-MgContext
        $context.Environment | Should -Be 'Mock'
        $context.AuthType | Should -Be 'UserProvidedAccessToken'
        $context.Scopes | Should -Contain 'User.RevokeSessions.All'
        $context.TenantId | Should -Match '^[0-9a-f-]{36}$'
        $context.ClientId | Should -Match '^[0-9a-f-]{36}$'
        ($context | Out-String) | Should -Not -Match ([regex]::Escape($token))
    }

    It 'refuses a malformed token with a clear, terminating error and keeps no context' {
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
        { Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString 'not-a-token' -AsPlainText -Force) -NoWelcome } |
            Should -Throw -ErrorId 'InvalidAccessToken,*' -ExpectedMessage '*malformed*'
        Get-MgContext | Should -BeNullOrEmpty
    }

    It 'refuses an expired token' {
        $expired = New-MockToken $Mock -ExpiresInSeconds -60
        { Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $expired -AsPlainText -Force) -NoWelcome } |
            Should -Throw -ExpectedMessage '*expired*'
    }

    It 'refuses an unknown environment and says how to add one' {
        $token = New-MockToken $Mock
        { Connect-MgGraph -Environment Nowhere -AccessToken (ConvertTo-SecureString $token -AsPlainText -Force) -NoWelcome } |
            Should -Throw -ExpectedMessage '*Add-MgEnvironment*'
    }

    It 'forgets the context on Disconnect-MgGraph' {
        Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString (New-MockToken $Mock) -AsPlainText -Force) -NoWelcome
        (Disconnect-MgGraph).Environment | Should -Be 'Mock'
        Get-MgContext | Should -BeNullOrEmpty
    }
}

Describe 'Add-MgEnvironment' -Tag CI {
    It 'refuses plain http to a non-loopback host' {
        Add-MgEnvironment -Name Cleartext -GraphEndpoint 'http://graph.contoso.test' -AzureADEndpoint 'https://login.contoso.test' -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidEnvironment,*'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].Exception.Message | Should -BeLike '*use https*'
        Get-MgEnvironment -Name Cleartext | Should -BeNullOrEmpty
    }

    It 'lists the built-in clouds and user-defined ones' {
        $names = (Get-MgEnvironment).Name
        $names | Should -Contain 'Global'
        $names | Should -Contain 'China'
        $names | Should -Contain 'USGov'
        $names | Should -Contain 'USGovDoD'
        (Get-MgEnvironment -Name Mock).Type | Should -Be 'User-defined'
    }

    It 'removes a user-defined environment but not a built-in one' {
        Add-MgEnvironment -Name Temp -GraphEndpoint 'https://graph.contoso.test' -AzureADEndpoint 'https://login.contoso.test' | Out-Null
        Remove-MgEnvironment -Name Temp
        Get-MgEnvironment -Name Temp | Should -BeNullOrEmpty
        Remove-MgEnvironment -Name Global -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures.Count | Should -Be 1
        Get-MgEnvironment -Name Global | Should -Not -BeNullOrEmpty
    }
}
