# The module against a hostile network of our own (hostile-server on loopback): a True must
# mean Graph said so, no secret may travel to another origin, every answer is bounded in size
# and time, and nothing a server sends reaches the console as a control sequence.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Graph = Start-HostileServer
    $script:Elsewhere = Start-HostileServer -Address 127.0.0.2
    $script:Jwt = 'eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0ZW5hbnQiLCJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJlLXNlY3JldA'
    Add-MgEnvironment -Name Hostile -GraphEndpoint $Graph.Url -AzureADEndpoint $Graph.Url | Out-Null
    Connect-MgGraph -Environment Hostile -AccessToken (ConvertTo-SecureString $Jwt -AsPlainText -Force) -NoWelcome
    $script:Saved = Get-MgRequestContext

    function Invoke-Revocation {
        # Runs the cmdlet, collecting output and errors instead of failing the test on them.
        param([string[]] $UserId = @('adele@contoso.com'), [hashtable] $Parameters = @{})
        $failures = $null
        $output = if ($UserId.Count -eq 1) {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $UserId[0] @Parameters -ErrorAction SilentlyContinue -ErrorVariable failures
        }
        else {
            $UserId | Invoke-MgBetaInvalidateAllUserRefreshToken @Parameters -ErrorAction SilentlyContinue -ErrorVariable failures
        }
        [pscustomobject]@{ Output = @($output); Errors = @($failures) }
    }
}

AfterAll {
    Set-MgRequestContext -MaxRetry $Saved.MaxRetry -RetryDelay $Saved.RetryDelay.TotalSeconds -RetriesTimeLimit $Saved.RetriesTimeLimit.TotalSeconds -ClientTimeout $Saved.ClientTimeout.TotalSeconds | Out-Null
    Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    Remove-MgEnvironment -Name Hostile -ErrorAction SilentlyContinue
    Stop-HostileServer $script:Graph
    Stop-HostileServer $script:Elsewhere
}

Describe 'Against a hostile network' -Tag CI {
    BeforeEach {
        # Quick limits, so that a defence that fails shows as a failed test, not a stuck run.
        Set-MgRequestContext -MaxRetry 1 -RetryDelay 1 -RetriesTimeLimit 4 -ClientTimeout 3 | Out-Null
        Reset-HostileServer $Graph
        Reset-HostileServer $Elsewhere
    }

    Context 'redirects' {
        It 'refuses a token request redirected with <Status>, and the client secret stays home' -ForEach @(@{ Status = 307 }, @{ Status = 308 }) {
            Set-HostileAct $Graph @{ kind = 'redirect'; status = $Status; location = "$($Elsewhere.Url)/tenant/oauth2/v2.0/token" }
            $secret = 'do-not-send-this-secret'
            $credential = [pscredential]::new('11111111-2222-3333-4444-555555555555', (ConvertTo-SecureString $secret -AsPlainText -Force))
            $failure = $null
            try {
                # A child pwsh: a failed sign-in must not disturb this session's connection.
                $script = {
                    param($manifest, $url, $clientId, $secret)
                    Import-Module $manifest
                    Add-MgEnvironment -Name HostileEntra -GraphEndpoint $url -AzureADEndpoint $url | Out-Null
                    $credential = [pscredential]::new($clientId, (ConvertTo-SecureString $secret -AsPlainText -Force))
                    try { Connect-MgGraph -Environment HostileEntra -TenantId contoso.onmicrosoft.com -ClientSecretCredential $credential -NoWelcome }
                    catch { "$($_.FullyQualifiedErrorId)|$($_.CategoryInfo.Category)|$($_.Exception.Message)" }
                }
                $failure = pwsh -NoProfile -NonInteractive -Command $script -args (Get-ModuleManifestPath), $Graph.Url, $credential.UserName, $secret
            }
            finally {
                Remove-Variable credential
            }
            $failure | Should -BeLike 'RedirectRefused,*'
            $failure | Should -BeLike "*HTTP $Status*127.0.0.2*"
            $failure | Should -Not -BeLike "*$secret*"
            Get-HostileRequests $Elsewhere | Should -BeNullOrEmpty
        }

        It 'never reports True for a revocation redirected to another origin (<Status>)' -ForEach @(@{ Status = 307 }, @{ Status = 308 }, @{ Status = 302 }) {
            Set-HostileAct $Graph @{ kind = 'redirect'; status = $Status; location = "$($Elsewhere.Url)/beta/users/adele/invalidateAllRefreshTokens" }
            $result = Invoke-Revocation -Parameters @{ Headers = @{ 'x-incident' = 'IR-4711' } }
            $result.Output | Should -BeNullOrEmpty
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'RedirectRefused,*'
            $result.Errors[0].CategoryInfo.Category | Should -Be 'SecurityError'
            Get-HostileRequests $Elsewhere | Should -BeNullOrEmpty
        }

        It 'sends neither the token nor the list of users to another origin in a bulk run' {
            Set-HostileAct $Graph @{ kind = 'redirect'; status = 307; location = "$($Elsewhere.Url)/beta/`$batch"; times = 0 }
            $result = Invoke-Revocation -UserId (1..30 | ForEach-Object { "user$_@contoso.com" })
            $result.Output | Should -BeNullOrEmpty
            $result.Errors.Count | Should -Be 30
            Get-HostileRequests $Elsewhere | Should -BeNullOrEmpty
        }
    }

    Context 'answers that are not Graph''s' {
        It 'reports <Name> as an error, never True' -ForEach @(
            @{ Name = 'an HTML page'; Status = 200; Type = 'text/html'; Body = '<html>{"value":true}</html>' }
            @{ Name = 'a string "false"'; Status = 200; Type = 'application/json'; Body = '{"value":"false"}' }
            @{ Name = 'a null value'; Status = 200; Type = 'application/json'; Body = '{"value":null}' }
            @{ Name = 'malformed JSON'; Status = 200; Type = 'application/json'; Body = '{"value":tr' }
            @{ Name = 'an error document with 200'; Status = 200; Type = 'application/json'; Body = '{"error":{"code":"x","message":"y"}}' }
        ) {
            Set-HostileAct $Graph @{ kind = 'answer'; status = $Status; headers = @{ 'content-type' = $Type }; body = $Body }
            $result = Invoke-Revocation
            $result.Output | Should -BeNullOrEmpty
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'UnexpectedGraphResponse,*'
            $result.Errors[0].CategoryInfo.Category | Should -Be 'InvalidResult'
            $result.Errors[0].Exception.Message | Should -BeLike "*HTTP $Status*$Type*"
        }

        It 'judges piped users by the same rule' {
            Set-HostileAct $Graph @{ kind = 'answer'; status = 200; headers = @{ 'content-type' = 'text/html' }; body = '<html>ok</html>'; times = 0 }
            $result = Invoke-Revocation -UserId (1..5 | ForEach-Object { "user$_@contoso.com" })
            $result.Output | Should -BeNullOrEmpty
            $result.Errors.Count | Should -Be 5
        }

        It 'still answers False for {"value":false}' {
            Set-HostileAct $Graph @{ kind = 'answer'; status = 200; headers = @{ 'content-type' = 'application/json' }; body = '{"value":false}' }
            $result = Invoke-Revocation
            $result.Errors | Should -BeNullOrEmpty
            $result.Output.Count | Should -Be 1
            [bool]$result.Output[0] | Should -BeFalse
        }
    }

    Context 'bounded in time and size' {
        It 'ends a zero Retry-After storm within RetriesTimeLimit' {
            Set-HostileAct $Graph @{ kind = 'answer'; status = 429; headers = @{ 'retry-after' = '0' }; times = 0 }
            $elapsed = Measure-Command { $script:result = Invoke-Revocation }
            $elapsed.TotalSeconds | Should -BeLessThan 8
            $result.Errors[0].Exception.StatusCode | Should -Be 429
            (Get-HostileRequests $Graph).Count | Should -BeLessThan 10
        }

        It 'refuses an endless body without reading it' {
            $before = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64
            Set-HostileAct $Graph @{ kind = 'endless' }
            $elapsed = Measure-Command { $script:result = Invoke-Revocation }
            $grown = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64 - $before
            $result.Output | Should -BeNullOrEmpty
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'UnexpectedGraphResponse,*'
            $result.Errors[0].Exception.Message | Should -BeLike '*1024 KiB*'
            $elapsed.TotalSeconds | Should -BeLessThan 5
            $grown | Should -BeLessThan 200MB
        }

        It 'gives up on a server that never answers' {
            Set-HostileAct $Graph @{ kind = 'silent'; times = 0 }
            $elapsed = Measure-Command { $script:result = Invoke-Revocation }
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'GraphTimeout,*'
            # Two attempts of 3 s and a backoff of at most 1 s.
            $elapsed.TotalSeconds | Should -BeLessThan 10
        }

        It 'waits 30 seconds for an exchange by default' {
            $child = pwsh -NoProfile -NonInteractive -Command "Import-Module '$(Get-ModuleManifestPath)'; (Get-MgRequestContext).ClientTimeout.TotalSeconds"
            $child | Should -Be '30'
        }
    }

    Context 'proxies' {
        It 'keeps a plain-http loopback endpoint off a proxy elsewhere, with its credential' {
            # Nothing listens at 192.0.2.1 (TEST-NET-1): through it, the call would fail.
            $credential = [pscredential]::new('alice', (ConvertTo-SecureString 'proxy-password' -AsPlainText -Force))
            $result = Invoke-Revocation -Parameters @{ Proxy = 'http://192.0.2.1:3128'; ProxyCredential = $credential }
            $result.Errors | Should -BeNullOrEmpty
            $request = @(Get-HostileRequests $Graph)[0]
            $request.headers | ForEach-Object { $_[0] } | Should -Not -Contain 'proxy-authorization'
        }

        It 'keeps it off HTTP_PROXY elsewhere too' {
            $script = {
                param($manifest, $url, $token)
                Import-Module $manifest
                Add-MgEnvironment -Name HostileProxy -GraphEndpoint $url -AzureADEndpoint $url | Out-Null
                Connect-MgGraph -Environment HostileProxy -AccessToken (ConvertTo-SecureString $token -AsPlainText -Force) -NoWelcome
                Set-MgRequestContext -ClientTimeout 5 | Out-Null
                Invoke-MgBetaInvalidateAllUserRefreshToken -UserId adele@contoso.com
            }
            try {
                $env:HTTP_PROXY = 'http://192.0.2.1:3128'
                pwsh -NoProfile -NonInteractive -Command $script -args (Get-ModuleManifestPath), $Graph.Url, $Jwt | Should -Be 'True'
            }
            finally {
                Remove-Item Env:HTTP_PROXY
            }
            (Get-HostileRequests $Graph).Count | Should -Be 1
        }
    }

    Context 'text from the network' {
        It 'redacts tokens in Graph error messages and strips terminal control from messages and error ids' {
            $esc = [char]27
            $message = "token=$Jwt and {`"access_token`":`"$Jwt`"} $esc]0;pwned$([char]7)`r`nWARNING: forged"
            $body = @{ error = @{ code = "Evil$esc[2J,Code"; message = $message } } | ConvertTo-Json -Compress
            Set-HostileAct $Graph @{ kind = 'answer'; status = 403; headers = @{ 'content-type' = 'application/json' }; body = $body }
            $result = Invoke-Revocation
            $record = $result.Errors[0]
            $record.Exception.Message | Should -Not -BeLike '*eyJ*'
            $record.Exception.Message | Should -BeLike '*token=`[redacted`]*'
            $record.Exception.Message -match '[\x00-\x1f\x7f-\x9f]' | Should -BeFalse
            $record.ErrorDetails.Message -match '[\x00-\x1f\x7f-\x9f]' | Should -BeFalse
            $record.FullyQualifiedErrorId | Should -Match '^[A-Za-z0-9_.-]+,'
            $record.FullyQualifiedErrorId -match '[\x00-\x1f]' | Should -BeFalse
        }

        It 'names -Headers problems as such: <Name>' -ForEach @(
            @{ Name = 'Host'; Headers = @{ Host = 'evil.example' }; Says = '*computes it*' }
            @{ Name = 'Content-Length'; Headers = @{ 'Content-Length' = '5' }; Says = '*computes it*' }
            @{ Name = 'a bad name'; Headers = @{ 'bad name' = 'x' }; Says = '*not a valid HTTP header name*' }
        ) {
            $result = Invoke-Revocation -Parameters @{ Headers = $Headers }
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidHeader,*'
            $result.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $result.Errors[0].Exception.Message | Should -BeLike $Says
            $result.Errors[0].Exception.Message | Should -Not -BeLike '*Connect-MgGraph*'
            Get-HostileRequests $Graph | Should -BeNullOrEmpty
        }
    }

    Context 'opaque tokens' {
        It 'accepts an -AccessToken that is not a JWT, with a warning that its claims cannot be shown' {
            $script = {
                param($manifest, $url)
                Import-Module $manifest
                Add-MgEnvironment -Name HostileOpaque -GraphEndpoint $url -AzureADEndpoint $url | Out-Null
                Connect-MgGraph -Environment HostileOpaque -AccessToken (ConvertTo-SecureString 'EwB4A8l6BAAUopaque' -AsPlainText -Force) -NoWelcome -WarningVariable warned -WarningAction SilentlyContinue
                "warning:$($warned.Count):$($warned[0].Message)"
                Invoke-MgBetaInvalidateAllUserRefreshToken -UserId adele@contoso.com
            }
            $lines = pwsh -NoProfile -NonInteractive -Command $script -args (Get-ModuleManifestPath), $Graph.Url
            $lines[0] | Should -BeLike 'warning:1:*not a JSON Web Token*'
            $lines[1] | Should -Be 'True'
            @(Get-HostileRequests $Graph)[0].headers | Where-Object { $_[0] -eq 'authorization' } | ForEach-Object { $_[1] } | Should -Be 'Bearer EwB4A8l6BAAUopaque'
        }

        It 'signs in with a client secret when Entra issues an opaque access token' {
            Set-HostileAct $Graph @{ kind = 'answer'; status = 200; headers = @{ 'content-type' = 'application/json' }; body = '{"token_type":"Bearer","expires_in":3599,"access_token":"EwB4opaque-app-token"}'; pathPrefix = '/contoso' }
            $script = {
                param($manifest, $url)
                Import-Module $manifest
                Add-MgEnvironment -Name HostileApp -GraphEndpoint $url -AzureADEndpoint $url | Out-Null
                $credential = [pscredential]::new('11111111-2222-3333-4444-555555555555', (ConvertTo-SecureString 'secret' -AsPlainText -Force))
                Connect-MgGraph -Environment HostileApp -TenantId contoso -ClientSecretCredential $credential -NoWelcome
                Invoke-MgBetaInvalidateAllUserRefreshToken -UserId adele@contoso.com
            }
            pwsh -NoProfile -NonInteractive -Command $script -args (Get-ModuleManifestPath), $Graph.Url | Should -Be 'True'
            $revocation = Get-HostileRequests $Graph | Where-Object { $_.path -like '/beta/*' }
            $revocation.headers | Where-Object { $_[0] -eq 'authorization' } | ForEach-Object { $_[1] } | Should -Be 'Bearer EwB4opaque-app-token'
        }
    }
}

Describe 'Invoke-MgGraphRequest against a hostile network' -Tag CI {
    BeforeAll {
        function Get-TerminatingError {
            # Runs a script block and returns the terminating error it raised (none: a failed test).
            param([Parameter(Mandatory)] [scriptblock] $Script)
            try { & $Script | Out-Null } catch { return $_ }
            throw 'no terminating error was raised'
        }
    }

    BeforeEach {
        Set-MgRequestContext -MaxRetry 1 -RetryDelay 1 -RetriesTimeLimit 4 -ClientTimeout 3 | Out-Null
        Reset-HostileServer $Graph
        Reset-HostileServer $Elsewhere
    }

    It 'refuses a redirect to another origin (<Status>) and sends neither token nor body there' -ForEach @(@{ Status = 307 }, @{ Status = 308 }, @{ Status = 302 }) {
        Set-HostileAct $Graph @{ kind = 'redirect'; status = $Status; location = "$($Elsewhere.Url)/v1.0/users/adele" }
        $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Method PATCH -Uri 'v1.0/users/adele' -Body @{ accountEnabled = $false } })
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'RedirectRefused,*'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        Get-HostileRequests $Elsewhere | Should -BeNullOrEmpty
        @(Get-HostileRequests $Graph) | Should -HaveCount 1
    }

    It 'refuses an absolute URI on another origin before sending anything' {
        $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri "$($Elsewhere.Url)/v1.0/me" })
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'OutsideGraphEndpoint,*'
        $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
        $failure[0].Exception.Message | Should -BeLike "*$($Elsewhere.Url)*"
        Get-HostileRequests $Elsewhere | Should -BeNullOrEmpty
        Get-HostileRequests $Graph | Should -BeNullOrEmpty
    }

    It 'cleans tokens and terminal control out of an HTTP error, its details and its id' {
        $esc = [char]27
        $message = "token=$Jwt $esc]0;pwned$([char]7)`r`nWARNING: forged"
        $body = @{ error = @{ code = "Evil$esc[2J,Code"; message = $message } } | ConvertTo-Json -Compress
        Set-HostileAct $Graph @{ kind = 'answer'; status = 403; headers = @{ 'content-type' = 'application/json' }; body = $body }
        $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri 'v1.0/users/adele' })
        $record = $failure[0]
        $record.FullyQualifiedErrorId | Should -BeLike 'InvokeGraphHttpResponseException,*'
        foreach ($text in $record.Exception.Message, $record.ErrorDetails.Message) {
            $text | Should -Not -BeLike '*eyJ*'
            $text -match '[\x00-\x1f\x7f-\x9f]' | Should -BeFalse
        }
        $record.Exception.Message | Should -BeLike '*token=`[redacted`]*'
        ($record.ErrorDetails.Message | ConvertFrom-Json).error.code | Should -Match '^[A-Za-z0-9_.-]+$'
        $record.Exception.Code | Should -Match '^[A-Za-z0-9_.-]+$'
    }

    It 'refuses an answer larger than its cap without reading it' {
        Set-HostileAct $Graph @{ kind = 'endless' }
        $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri 'v1.0/users' })
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'UnexpectedGraphResponse,*'
        $failure[0].Exception.Message | Should -BeLike '*32768 KiB*'
    }
}
