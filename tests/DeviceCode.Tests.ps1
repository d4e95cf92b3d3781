# Delegated sign-in with the device code flow against the mock Entra ID and Graph over real
# loopback HTTP: the message shown before polling, pending polls, declined and expired codes,
# silent renewal with the rotated refresh token (counted on the server), and one clear error
# once the refresh token is revoked.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    # Never the real user's token cache.
    $script:PreviousDataDir = $env:GRAPH_BETA_DATA_DIR
    $script:DataDir = Join-Path ([System.IO.Path]::GetTempPath()) "graph-devicecode-$([guid]::NewGuid().ToString('n'))"
    $env:GRAPH_BETA_DATA_DIR = $DataDir
    $script:Mock = Start-GraphMock
    Add-MgEnvironment -Name Mock -GraphEndpoint $Mock.BaseUrl -AzureADEndpoint $Mock.BaseUrl | Out-Null
    $script:TenantId = [guid]::NewGuid().ToString()
    $script:User = Add-MockUser $Mock 'adele@contoso.com'
    $script:DefaultClientId = '14d82eec-204b-4c2f-b7e8-296a70dab67e'
    Invoke-MockControl $Mock POST apps @{ appId = $DefaultClientId; tenantId = $TenantId } | Out-Null

    function script:Set-DeviceScript([int] $Pending = 0, [string] $Outcome = 'approve') {
        Invoke-MockControl $Mock POST devicecode @{ pendingPolls = $Pending; outcome = $Outcome; interval = 0 } | Out-Null
    }

    function script:Get-TokenRequests([string] $Kind) {
        $stats = Invoke-MockControl $Mock GET token-stats
        [int] ($stats.requests.$Kind)
    }

    function script:Connect-Device {
        param([string[]] $Scopes = @('User.RevokeSessions.All'))
        Connect-MgGraph -Environment Mock -Scopes $Scopes -UseDeviceCode -TenantId $TenantId -ContextScope Process -NoWelcome 6>&1
    }
}

AfterAll {
    Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    Stop-GraphMock $script:Mock
    $env:GRAPH_BETA_DATA_DIR = $script:PreviousDataDir
    Remove-Item $script:DataDir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Connect-MgGraph -Scopes -UseDeviceCode' -Tag CI {
    BeforeEach {
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 3599 } | Out-Null
        Invoke-MockControl $Mock DELETE token-stats | Out-Null
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    }

    It 'shows Entra''s message, polls through pending answers, signs in as the user and revokes' {
        Set-DeviceScript -Pending 2
        $shown = @(Connect-Device)
        $shown.Count | Should -Be 1
        $shown[0] | Should -BeOfType [System.Management.Automation.InformationRecord]
        $shown[0].Tags | Should -Contain 'PSHOST'
        "$($shown[0].MessageData)" | Should -Match 'https://microsoft.com/devicelogin and enter the code [A-Z0-9]{9}'
        $context = Get-MgContext
        $context.AuthType | Should -Be 'Delegated'
        $context.TokenCredentialType | Should -Be 'DeviceCode'
        $context.Account | Should -Be 'admin@contoso.com'
        $context.Scopes | Should -Contain 'User.RevokeSessions.All'
        $context.ClientId | Should -Be $DefaultClientId
        $context.TenantId | Should -Be $TenantId
        $context.ContextScope | Should -Be 'Process'
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.UserPrincipalName | Should -BeTrue
        Get-TokenRequests 'devicecode' | Should -Be 1
        Get-TokenRequests 'urn:ietf:params:oauth:grant-type:device_code' | Should -Be 3
    }

    It 'uses the Microsoft Graph Command Line Tools app and the common tenant by default, and asks for offline_access' {
        Set-DeviceScript
        Clear-MockRequests $Mock
        Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All -ContextScope Process -NoWelcome 6>$null
        $request = Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object { $_.rawPath -like '*/oauth2/v2.0/devicecode' } | Select-Object -First 1
        $request.rawPath | Should -Be '/common/oauth2/v2.0/devicecode'
        $form = [System.Web.HttpUtility]::ParseQueryString($request.body)
        $form['client_id'] | Should -Be $DefaultClientId
        $form['scope'] -split ' ' | Should -Contain 'offline_access'
        (Get-MgContext).AuthType | Should -Be 'Delegated'
    }

    It 'stops with a clear error when the user declines, and keeps no context' {
        Set-DeviceScript -Pending 1 -Outcome decline
        { Connect-Device } | Should -Throw -ErrorId 'DeviceCodeSignInFailed,Microsoft.Graph.Beta.PowerShell.Cmdlets.ConnectMgGraph'
        $Error[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $Error[0].Exception.Message | Should -Match 'declined'
        $Error[0].Exception.Message | Should -Match 'Connect-MgGraph'
        Get-MgContext | Should -BeNullOrEmpty
    }

    It 'stops with a clear error when the code expires' {
        Set-DeviceScript -Outcome expire
        { Connect-Device } | Should -Throw '*expired*'
        $Error[0].Exception.Message | Should -Match 'AADSTS70019'
        Get-MgContext | Should -BeNullOrEmpty
    }

    It 'renews an access token that expires mid-script with the refresh token, without the user noticing' {
        Set-DeviceScript
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 2 } | Out-Null
        Connect-Device | Out-Null
        1..3 | ForEach-Object {
            Start-Sleep -Milliseconds 1100
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
        }
        Get-TokenRequests 'refresh_token' | Should -BeGreaterOrEqual 1
        Get-TokenRequests 'devicecode' | Should -Be 1
    }

    It 'asks to sign in again, once, when the refresh token was revoked' {
        Set-DeviceScript
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 1 } | Out-Null
        Connect-Device | Out-Null
        Invoke-MockControl $Mock POST refresh-tokens/revoke @{} | Out-Null
        Start-Sleep -Milliseconds 1100
        $result = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -ErrorAction SilentlyContinue -ErrorVariable failures
        $result | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failures[0].Exception.Message | Should -Match 'Sign in again with Connect-MgGraph'
        $failures[0].Exception.Message | Should -Match 'AADSTS50173'
        $before = Get-TokenRequests 'refresh_token'
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -ErrorAction SilentlyContinue | Out-Null
        Get-TokenRequests 'refresh_token' | Should -Be $before
    }

    It 'shows the message without prompting under -Debug -Verbose (a warning would ask to continue)' {
        Set-DeviceScript
        $all = Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId $TenantId -ContextScope Process -NoWelcome -Debug -Verbose *>&1 | Out-String
        $all | Should -Match 'enter the code'
        (Get-MgContext).AuthType | Should -Be 'Delegated'
    }

    It 'stops polling on Ctrl+C (pipeline stop)' {
        Invoke-MockControl $Mock POST devicecode @{ pendingPolls = 100000; interval = 1 } | Out-Null
        $ps = [powershell]::Create()
        $ps.AddScript("Import-Module '$(Get-ModuleManifestPath)'; Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null; Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId '$TenantId' -ContextScope Process -NoWelcome") | Out-Null
        $async = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ((Get-TokenRequests 'urn:ietf:params:oauth:grant-type:device_code') -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        # The stop must come while polling, or this would only prove a stop before the poll.
        Get-TokenRequests 'urn:ietf:params:oauth:grant-type:device_code' | Should -BeGreaterOrEqual 1 -Because 'polling must be under way before Ctrl+C'
        $ps.Stop()
        $async.IsCompleted | Should -BeTrue
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        # No poll after the stop (the mock would answer authorization_pending every second).
        $polls = Get-TokenRequests 'urn:ietf:params:oauth:grant-type:device_code'
        Start-Sleep -Seconds 3
        Get-TokenRequests 'urn:ietf:params:oauth:grant-type:device_code' | Should -Be $polls
        $ps.Dispose()
    }
}
