BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    $script:Adele = Add-MockUser $Mock 'adele.vance@contoso.com'
    $script:Token = New-MockToken $Mock
    Connect-GraphMock $Mock -Token $Token
}

AfterAll {
    Stop-GraphMock $script:Mock
}

Describe 'Invoke-MgBetaInvalidateAllUserRefreshToken request features' -Tag CI {
    BeforeEach { Clear-MockRequests $Mock }

    Context '-Headers' {
        It 'sends extra headers, numbers and GUIDs included' {
            $guid = [guid]::NewGuid()
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Headers @{ 'x-ms-throttle-priority' = 'High'; 'x-count' = 5; 'client-request-id' = $guid } | Should -BeTrue
            $headers = (Get-MockRequests $Mock)[0].headers
            $headers.'x-ms-throttle-priority' | Should -Be 'High'
            $headers.'x-count' | Should -Be '5'
            $headers.'client-request-id' | Should -Be $guid.ToString()
        }

        It 'refuses to override <Name> and sends nothing' -ForEach @(@{ Name = 'Authorization' }, @{ Name = 'Host' }) {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Headers @{ $Name = 'evil' } -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
            $failures.Count | Should -Be 1
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $failures[0].Exception.Message | Should -BeLike "*'$Name' cannot be set*"
            (Get-MockRequests $Mock).Count | Should -Be 0
        }

        It 'refuses a header value that is not text, a number or a GUID' {
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Headers @{ 'x-bad' = @{ nested = 1 } } -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidHeader,*'
            $failures[0].Exception.Message | Should -BeLike "*'x-bad'*Hashtable*"
            (Get-MockRequests $Mock).Count | Should -Be 0
        }
    }

    Context '-ResponseHeadersVariable' {
        It 'sets a global, case-insensitive dictionary of the response headers on success' {
            Remove-Variable -Name revokeHeaders -Scope Global -ErrorAction SilentlyContinue
            & { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -ResponseHeadersVariable revokeHeaders | Out-Null }
            $headers = Get-Variable -Name revokeHeaders -Scope Global -ValueOnly
            $headers | Should -BeOfType ([System.Collections.Generic.Dictionary[string, System.Collections.Generic.IEnumerable[string]]])
            $requestId = @($headers['REQUEST-ID'])[0]
            $requestId | Should -Match '^[0-9a-f-]{36}$'
            @($headers['content-type'])[0] | Should -BeLike 'application/json*'
        }

        It 'answers to the RHV alias and is not set on failure' {
            Remove-Variable -Name failedHeaders -Scope Global -ErrorAction SilentlyContinue
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId 'nobody@contoso.com' -RHV failedHeaders -ErrorAction SilentlyContinue | Out-Null
            Get-Variable -Name failedHeaders -Scope Global -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    Context '-HttpPipelinePrepend and -HttpPipelineAppend' {
        It 'lets steps change the real request, in prepend-then-append order' {
            $prepend = { param($request, $callback, $next) $request.Headers.Add('x-step', 'prepend'); $next.SendAsync($request, $callback) }
            $append = { param($request, $callback, $next) $request.Headers.Add('x-order', ($request.Headers.GetValues('x-step') -join ',') + '>append'); $next.SendAsync($request, $callback) }
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -HttpPipelinePrepend $prepend -HttpPipelineAppend $append | Should -BeTrue
            $headers = (Get-MockRequests $Mock)[0].headers
            $headers.'x-step' | Should -Be 'prepend'
            $headers.'x-order' | Should -Be 'prepend>append'
            $headers.authorization | Should -BeExactly "Bearer $Token"
        }

        It 'never shows the token to a step' {
            $script:seen = $null
            $spy = { param($request, $callback, $next) $script:seen = $request.Headers.ToString(); $next.SendAsync($request, $callback) }
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -HttpPipelinePrepend $spy | Out-Null
            $script:seen | Should -Not -BeNullOrEmpty
            $script:seen | Should -Not -Match 'Bearer'
        }

        It 'lets a step see and change the response' {
            $flip = {
                param($request, $callback, $next)
                $response = $next.SendAsync($request, $callback).GetAwaiter().GetResult()
                # A step's answer meets the same success rule as Graph's: JSON, with a boolean value.
                $response.Content = [System.Net.Http.StringContent]::new('{"value":false}', [System.Text.Encoding]::UTF8, 'application/json')
                [System.Threading.Tasks.Task]::FromResult($response)
            }
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -HttpPipelineAppend $flip | Should -BeFalse
            (Get-MockRequests $Mock).Count | Should -Be 1
        }

        It 'lets a step answer without calling next, and then nothing is sent' {
            $answer = { param($request, $callback, $next) $r = [System.Net.Http.HttpResponseMessage]::new(204); $r.RequestMessage = $request; [System.Threading.Tasks.Task]::FromResult($r) }
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -HttpPipelinePrepend $answer | Should -BeTrue
            (Get-MockRequests $Mock).Count | Should -Be 0
        }

        It 'refuses to send the token when a step points the request elsewhere' {
            $elsewhere = { param($request, $callback, $next) $request.RequestUri = [uri]'http://127.0.0.2:9/beta/users/x/invalidateAllRefreshTokens'; $next.SendAsync($request, $callback) }
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -HttpPipelinePrepend $elsewhere -ErrorAction SilentlyContinue -ErrorVariable failures 2>$null | Out-Null
            ($failures | Where-Object { $_.FullyQualifiedErrorId -like 'InvalidUserId,*' -or $_.Exception.Message -like '*outside the Graph endpoint*' }) | Should -Not -BeNullOrEmpty
            (Get-MockRequests $Mock).Count | Should -Be 0
        }
    }

    Context '-Verbose and -Debug' {
        It 'says what is done to whom under -Verbose' {
            $verbose = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            ($verbose.Message -join "`n") | Should -BeLike "*'$($Adele.Id)'*"
        }

        It 'shows the HTTP exchange with the token redacted when debugging' {
            $DebugPreference = 'Continue'
            $debug = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $Adele.Id 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }
            $DebugPreference = 'SilentlyContinue'
            $text = $debug.Message -join "`n"
            $text | Should -BeLike "*POST $($Mock.BaseUrl)/beta/users/$($Adele.Id)/invalidateAllRefreshTokens*"
            $text | Should -BeLike '*authorization: Bearer `[redacted`]*'
            $text | Should -BeLike '*HTTP response: 200*'
            $text | Should -Not -BeLike "*$($Token.Split('.')[2])*"
        }
    }

    Context '-Break' {
        It 'waits for a debugger, tells the process id, and Ctrl+C ends the wait without sending' {
            $powershell = [powershell]::Create()
            $null = $powershell.AddCommand('Import-Module').AddArgument((Get-ModuleManifestPath)).AddStatement()
            $null = $powershell.AddCommand('Invoke-MgBetaInvalidateAllUserRefreshToken').AddParameter('UserId', $Adele.Id).AddParameter('Break', $true)
            $handle = $powershell.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while ($powershell.Streams.Warning.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $powershell.Streams.Warning[0].Message | Should -BeLike "*process $PID*Ctrl+C*"
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $powershell.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
            # Stop() returns once the pipeline has stopped; the invocation's handle completes just
            # after, on the invoking thread (a busy machine showed the gap).
            $handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(5)) | Should -BeTrue
            $powershell.Dispose()
            (Get-MockRequests $Mock).Count | Should -Be 0
        }
    }
}

Describe 'Invoke-MgBetaInvalidateAllUserRefreshToken bad user ids' -Tag CI {
    BeforeEach { Clear-MockRequests $Mock }

    It 'refuses <Label> for that item alone, sending nothing for it' -ForEach @(
        @{ Label = 'a whitespace id'; Id = '   '; Message = '*empty*' }
        @{ Label = 'a 10,000-character id'; Id = ('x' * 10000); Message = '*10000 characters*' }
        @{ Label = 'an id with control characters'; Id = "adele`0@contoso.com"; Message = '*control characters*' }
        @{ Label = 'an id with an unpaired surrogate'; Id = "adele$([char]0xD800)@contoso.com"; Message = '*surrogate*' }
        @{ Label = 'a dot segment'; Id = '..'; Message = '*not a user id*' }
    ) {
        $results = @($Id, $Adele.Id) | ForEach-Object { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $_ -ErrorAction SilentlyContinue -ErrorVariable +failures }
        @($results).Count | Should -Be 1
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidUserId,*'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failures[0].Exception.Message | Should -BeLike $Message
        (Get-MockRequests $Mock).Count | Should -Be 1
    }

    It 'refuses an empty or null id at binding' {
        { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId '' } | Should -Throw -ErrorId 'ParameterArgumentValidationErrorEmptyStringNotAllowed,*'
        { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $null } | Should -Throw -ErrorId 'ParameterArgumentValidationErrorNullNotAllowed,*'
        (Get-MockRequests $Mock).Count | Should -Be 0
    }

    It 'sends a non-BMP id percent-encoded as UTF-8' {
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId "😀@contoso.com" -ErrorAction SilentlyContinue | Out-Null
        (Get-MockRequests $Mock)[0].rawPath | Should -Be '/beta/users/%F0%9F%98%80@contoso.com/invalidateAllRefreshTokens'
    }
}
