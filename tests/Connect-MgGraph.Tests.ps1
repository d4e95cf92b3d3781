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
        { Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString 'Bearer not-a-token' -AsPlainText -Force) -NoWelcome } |
            Should -Throw -ErrorId 'InvalidAccessToken,*' -ExpectedMessage '*malformed*'
        Get-MgContext | Should -BeNullOrEmpty
    }

    It 'refuses an expired token' {
        $expired = New-MockToken $Mock -ExpiresInSeconds -60
        { Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $expired -AsPlainText -Force) -NoWelcome } |
            Should -Throw -ExpectedMessage '*expired*'
    }

    It 'refuses a token that cannot travel in a header, names why, and caches nothing' {
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
        foreach ($bad in 'Bearer x.y.z', 'a b', "a`tb") {
            { Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $bad -AsPlainText -Force) -NoWelcome } |
                Should -Throw -ErrorId 'InvalidAccessToken,*' -ExpectedMessage '*malformed (*'
            $Error[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            Get-MgContext | Should -BeNullOrEmpty
        }
    }

    It 'accepts a token that is not a JWT (tokens are opaque), warning that its claims cannot be shown' {
        foreach ($opaque in 'a.b', 'x.!!!.z') {
            Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $opaque -AsPlainText -Force) -NoWelcome -WarningVariable warned -WarningAction SilentlyContinue
            $warned.Count | Should -Be 1
            $warned[0].Message | Should -BeLike '*not a JSON Web Token*'
            (Get-MgContext).TenantId | Should -BeNullOrEmpty
            Disconnect-MgGraph | Out-Null
        }
    }

    It 'never renews the token: once it expires, calls fail saying to get a new one, without sending it' {
        $token = New-MockToken $Mock -ExpiresInSeconds 2
        Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $token -AsPlainText -Force) -NoWelcome
        $user = Add-MockUser $Mock 'expiring@contoso.com'
        Start-Sleep -Seconds 3
        Clear-MockRequests $Mock
        $result = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $user.Id -ErrorAction SilentlyContinue -ErrorVariable failures
        $result | Should -BeNullOrEmpty
        $failures[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failures[0].Exception.Message | Should -Match 'get a new token and run Connect-MgGraph -AccessToken again'
        @(Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object { $_.rawPath -like '*invalidateAllRefreshTokens*' }).Count | Should -Be 0
        Disconnect-MgGraph | Out-Null
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

Describe 'Add-MgEnvironment persistence' -Tag CI {
    BeforeAll {
        $script:Manifest = Get-ModuleManifestPath
        function script:Invoke-Child([string] $Body) {
            $output = & pwsh -NoProfile -NonInteractive -Command "`$ErrorActionPreference = 'Stop'; Import-Module '$Manifest'; $Body" 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String).Trim() }
        }
    }

    It 'saves a custom environment for new processes, owner-only, and Remove-MgEnvironment forgets it' {
        $name = "Saved$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        Add-MgEnvironment -Name $name -GraphEndpoint 'https://graph.contoso.test' -AzureADEndpoint 'https://login.contoso.test' | Out-Null
        $file = Join-Path $env:GRAPH_BETA_DATA_DIR 'environments.json'
        if ($IsLinux -or $IsMacOS) { (Get-Item $file).UnixMode | Should -Be '-rw-------' }
        $child = Invoke-Child "(Get-MgEnvironment -Name $name).GraphEndpoint"
        $child.ExitCode | Should -Be 0 -Because $child.Output
        $child.Output | Should -Be 'https://graph.contoso.test'
        Remove-MgEnvironment -Name $name
        (Invoke-Child "@(Get-MgEnvironment -Name $name).Count").Output | Should -Be '0'
        Get-Content $file -Raw | Should -Not -Match $name
    }

    It 'lets a new process connect to an environment an earlier one added' {
        $name = "Later$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        (Invoke-Child "Add-MgEnvironment -Name $name -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null").ExitCode | Should -Be 0
        $token = New-MockToken $Mock
        $child = Invoke-Child "Connect-MgGraph -Environment $name -AccessToken (ConvertTo-SecureString '$token' -AsPlainText -Force) -NoWelcome; (Get-MgContext).Environment"
        $child.ExitCode | Should -Be 0 -Because $child.Output
        $child.Output | Should -Be $name
        Invoke-Child "Remove-MgEnvironment -Name $name" | Out-Null
    }
}
