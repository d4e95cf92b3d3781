# -Proxy really used (the official module ignores it), through a real squid on loopback.
# Linux only: Start-Squid runs Debian's squid, which build.ps1 -Test installs there.
BeforeAll {
    if (-not $IsLinux) { return }
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    $script:Adele = Add-MockUser $Mock 'adele.vance@contoso.com'
    Connect-GraphMock $Mock
    $script:OpenProxy = Start-Squid
    $script:ProxyPassword = 'correct horse battery'
    $script:AuthProxy = Start-Squid -UserName 'alice' -Password $ProxyPassword
}

AfterAll {
    if (-not $IsLinux) { return }
    Stop-Squid $script:OpenProxy
    Stop-Squid $script:AuthProxy
    Stop-GraphMock $script:Mock
}

Describe 'Invoke-MgBetaInvalidateAllUserRefreshToken -Proxy' -Tag CI -Skip:(-not $IsLinux) {
    BeforeEach { Clear-MockRequests $Mock }

    It 'sends the request through the proxy given with -Proxy' {
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Proxy $OpenProxy.Url | Should -BeTrue
        (Get-SquidAccessLog $OpenProxy) -match "POST $([regex]::Escape($Mock.BaseUrl))/beta/users/$($Adele.Id)/invalidateAllRefreshTokens" | Should -Not -BeNullOrEmpty
        (Get-MockRequests $Mock)[0].headers.via | Should -Match 'squid'
    }

    It 'authenticates to the proxy with -ProxyCredential' {
        $credential = [pscredential]::new('alice', (ConvertTo-SecureString $ProxyPassword -AsPlainText -Force))
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Proxy $AuthProxy.Url -ProxyCredential $credential | Should -BeTrue
        (Get-SquidAccessLog $AuthProxy) -match ' alice ' | Should -Not -BeNullOrEmpty
    }

    It 'reports a wrong proxy password as a clear 407 error without revealing it' {
        $credential = [pscredential]::new('alice', (ConvertTo-SecureString 'wrong-password-123' -AsPlainText -Force))
        $output = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Proxy $AuthProxy.Url -ProxyCredential $credential -ErrorAction SilentlyContinue -ErrorVariable failures
        $output | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ProxyAuthenticationRequired,*'
        $failures[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failures[0].Exception.Message | Should -BeLike '*407*-ProxyCredential*'
        ($failures[0] | Out-String) + $failures[0].Exception.Message | Should -Not -BeLike '*wrong-password-123*'
        (Get-MockRequests $Mock).Count | Should -Be 0
    }

    It 'reports a proxy that needs credentials when none are given' {
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Proxy $AuthProxy.Url -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ProxyAuthenticationRequired,*'
    }

    It 'reports an unreachable proxy as a connection error' {
        $closed = "http://127.0.0.1:$(Get-FreeTcpPort)"
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Proxy $closed -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'GraphUnreachable,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'warns that -ProxyUseDefaultCredentials sends no credentials' {
        $warnings = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Proxy $OpenProxy.Url -ProxyUseDefaultCredentials 3>&1 |
            Where-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $warnings.Message | Should -BeLike '*-ProxyCredential*'
    }
}

Describe 'system proxy settings' -Tag CI -Skip:(-not $IsLinux) {
    BeforeEach { Clear-MockRequests $Mock }

    It 'honours <Variable> when -Proxy is absent, and NO_PROXY bypasses it' -ForEach @(@{ Variable = 'HTTP_PROXY' }, @{ Variable = 'http_proxy' }) {
        $token = New-MockToken $Mock
        $script = {
            param($manifest, $baseUrl, $token, $userId)
            Import-Module $manifest
            Add-MgEnvironment -Name Mock -GraphEndpoint $baseUrl -AzureADEndpoint $baseUrl | Out-Null
            Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $token -AsPlainText -Force) -NoWelcome
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $userId
        }
        $manifest = Get-ModuleManifestPath
        try {
            Set-Item "Env:$Variable" $OpenProxy.Url
            pwsh -NoProfile -NonInteractive -Command $script -args $manifest, $Mock.BaseUrl, $token, $Adele.Id | Should -Be 'True'
            (Get-MockRequests $Mock)[0].headers.via | Should -Match 'squid'

            Clear-MockRequests $Mock
            Set-Item Env:NO_PROXY '127.0.0.1'
            pwsh -NoProfile -NonInteractive -Command $script -args $manifest, $Mock.BaseUrl, $token, $Adele.Id | Should -Be 'True'
            (Get-MockRequests $Mock)[0].headers.via | Should -BeNullOrEmpty
        }
        finally {
            Remove-Item "Env:$Variable", Env:NO_PROXY -ErrorAction SilentlyContinue
        }
    }
}
