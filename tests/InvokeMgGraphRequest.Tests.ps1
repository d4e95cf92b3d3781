# Invoke-MgGraphRequest in a real pwsh against graph-mock's generic routes (/{v}/mock/echo,
# text, bytes, empty, status/{code}) and its user reads: URIs, output types, body conversions,
# the status and header variables, Graph errors, -SkipHttpErrorCheck, files; its metadata
# against the official 2.25.0 cmdlet (../shared/peers), and the official module's connection.

BeforeDiscovery {
    $script:PeerRoot = if ($env:GRAPH_OFFICIAL_PEERS) { $env:GRAPH_OFFICIAL_PEERS } else { Join-Path $PSScriptRoot '../../shared/peers' }
    $script:NoPeer = -not (Test-Path (Join-Path $PeerRoot 'Microsoft.Graph.Authentication/2.25.0/Microsoft.Graph.Authentication.psd1'))
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Manifest = Get-ModuleManifestPath
    Import-Module $Manifest -Force
    $script:PeerRoot = if ($env:GRAPH_OFFICIAL_PEERS) { $env:GRAPH_OFFICIAL_PEERS } else { Join-Path $PSScriptRoot '../../shared/peers' }
    $script:OfficialManifest = Join-Path $PeerRoot 'Microsoft.Graph.Authentication/2.25.0/Microsoft.Graph.Authentication.psd1'
    $script:Mock = Start-GraphMock
    $script:Adele = Add-MockUser $Mock 'adele.vance@contoso.com'
    $script:Token = New-MockToken $Mock -Roles @('User.RevokeSessions.All', 'User.Read.All')
    Connect-GraphMock $Mock -Token $Token
    $script:Scratch = (New-Item -ItemType Directory -Path (Join-Path ([System.IO.Path]::GetTempPath()) "igr-$([guid]::NewGuid().ToString('n'))")).FullName

    function Get-TerminatingError {
        # Runs a script block and returns the terminating error it raised (none: a failed test).
        param([Parameter(Mandatory)] [scriptblock] $Script)
        try { & $Script | Out-Null } catch { return $_ }
        throw 'no terminating error was raised'
    }

    function Get-Sent {
        # The requests the mock received since the last Clear-MockRequests.
        Get-MockRequests $Mock | ForEach-Object { $_ }
    }

    function Get-Metadata {
        # The parts of a cmdlet's metadata scripts depend on, with types by their short name
        # (the two modules' enums live in different namespaces).
        param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command)
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        [ordered]@{
            DefaultParameterSet = $Command.DefaultParameterSet
            Aliases             = @(Get-Alias -Definition $Command.Name -ErrorAction SilentlyContinue | Where-Object Source -eq $Command.Source | ForEach-Object Name | Sort-Object)
            Parameters          = @(foreach ($parameter in $Command.Parameters.Values | Where-Object Name -notin $common | Sort-Object Name) {
                    foreach ($attribute in $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) {
                        '{0}|{1}|set={2}|mandatory={3}|position={4}|pipeline={5}|byName={6}|aliases={7}|dontShow={8}' -f $parameter.Name, $parameter.ParameterType.Name,
                        $attribute.ParameterSetName, $attribute.Mandatory, $attribute.Position, $attribute.ValueFromPipeline,
                        $attribute.ValueFromPipelineByPropertyName, (($parameter.Aliases | Sort-Object) -join ','), $attribute.DontShow
                    }
                })
        }
    }

    function Invoke-Child {
        # Runs a script in a new pwsh with a scratch HOME (the official module writes ~/.mg) and
        # returns the JSON object its last output line holds.
        param([Parameter(Mandatory)] [string] $Script)
        $file = Join-Path $Scratch "child-$([guid]::NewGuid().ToString('n')).ps1"
        Set-Content -Path $file -Value $Script
        $start = [System.Diagnostics.ProcessStartInfo]::new((Get-Command pwsh -CommandType Application)[0].Source)
        foreach ($argument in '-NoProfile', '-NonInteractive', '-File', $file) { $start.ArgumentList.Add($argument) }
        $start.Environment['HOME'] = Join-Path $Scratch 'home'
        $start.Environment['GRAPH_BETA_DATA_DIR'] = Join-Path $Scratch 'home/data'
        $start.Environment['PSModulePath'] = Join-Path $PSHOME 'Modules'
        $start.Environment['MOCK_URL'] = $Mock.BaseUrl
        $start.Environment['MOCK_TOKEN'] = $Token
        $start.Environment['OURS'] = $Manifest
        $start.Environment['OFFICIAL'] = $OfficialManifest
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($start)
        $stderr = $process.StandardError.ReadToEndAsync()
        $stdout = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $last = @($stdout -split "`n" | Where-Object { $_.StartsWith('{') })[-1]
        if (-not $last) { throw "the child wrote no result. stdout: $stdout stderr: $($stderr.Result)" }
        $last | ConvertFrom-Json
    }
}

AfterAll {
    Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    Stop-GraphMock $script:Mock
    Remove-Item -Recurse -Force $script:Scratch -ErrorAction SilentlyContinue
}

Describe 'Invoke-MgGraphRequest metadata' -Tag CI {
    It 'declares the official 2.25.0 parameters, types, sets, positions, aliases and pipeline binding' -Skip:$NoPeer {
        $official = Invoke-Child -Script @'
$ErrorActionPreference = 'Stop'
Import-Module $env:OFFICIAL
$command = Get-Command Microsoft.Graph.Authentication\Invoke-MgGraphRequest
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
[ordered]@{
    DefaultParameterSet = $command.DefaultParameterSet
    Aliases = @(Get-Alias -Definition $command.Name | Where-Object Source -eq $command.Source | ForEach-Object Name | Sort-Object)
    Parameters = @(foreach ($parameter in $command.Parameters.Values | Where-Object Name -notin $common | Sort-Object Name) {
        foreach ($attribute in $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) {
            '{0}|{1}|set={2}|mandatory={3}|position={4}|pipeline={5}|byName={6}|aliases={7}|dontShow={8}' -f $parameter.Name, $parameter.ParameterType.Name,
            $attribute.ParameterSetName, $attribute.Mandatory, $attribute.Position, $attribute.ValueFromPipeline,
            $attribute.ValueFromPipelineByPropertyName, (($parameter.Aliases | Sort-Object) -join ','), $attribute.DontShow
        }
    })
} | ConvertTo-Json -Compress -Depth 4
'@
        $ours = Get-Metadata (Get-Command Microsoft.Graph.Beta.Users.Actions\Invoke-MgGraphRequest)
        $official.Parameters | Should -Not -BeNullOrEmpty
        $ours.DefaultParameterSet | Should -Be $official.DefaultParameterSet
        $ours.Aliases | Should -Be @($official.Aliases)
        # Compared line by line, so a difference names the parameter.
        $ours.Parameters | Should -Be @($official.Parameters)
    }

    It 'has the official enums, by name and order' {
        [enum]::GetNames([Microsoft.Graph.Beta.PowerShell.Models.GraphRequestMethod]) | Should -Be @('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
        [enum]::GetNames([Microsoft.Graph.Beta.PowerShell.Models.OutputType]) | Should -Be @('HashTable', 'PSObject', 'HttpResponseMessage', 'Json')
    }

    It 'is exported with its aliases Invoke-GraphRequest and Invoke-MgRestMethod' {
        (Get-Command Invoke-GraphRequest).ResolvedCommand.Name | Should -Be 'Invoke-MgGraphRequest'
        (Get-Command Invoke-MgRestMethod).ResolvedCommand.Name | Should -Be 'Invoke-MgGraphRequest'
        (Get-Module Microsoft.Graph.Beta.Users.Actions).ExportedCmdlets.Keys | Should -Contain 'Invoke-MgGraphRequest'
    }
}

Describe 'Invoke-MgGraphRequest' -Tag CI {
    BeforeEach { Clear-MockRequests $Mock }

    Context 'URIs' {
        It 'sends a relative URI <Uri> to the connected Graph endpoint with the token' -ForEach @(
            @{ Uri = 'v1.0/mock/echo'; Path = '/v1.0/mock/echo' }
            @{ Uri = 'beta/mock/echo'; Path = '/beta/mock/echo' }
            @{ Uri = '/beta/mock/echo'; Path = '/beta/mock/echo' }
        ) {
            $answer = Invoke-MgGraphRequest -Uri $Uri
            $answer.path | Should -Be $Path
            $answer.method | Should -Be 'GET'
            $answer.authorized | Should -BeTrue
            @(Get-Sent) | Should -HaveCount 1
        }

        It 'sends an absolute URI on the connected Graph endpoint, query included' {
            $answer = Invoke-MgGraphRequest -Uri "$($Mock.BaseUrl)/v1.0/mock/echo?`$select=id&`$top=5"
            $answer.path | Should -Be '/v1.0/mock/echo'
            $answer.query | Should -Be '$select=id&$top=5'
        }

        It 'answers to its alias Invoke-GraphRequest' {
            (Invoke-GraphRequest -Uri 'v1.0/mock/echo').path | Should -Be '/v1.0/mock/echo'
        }

        It 'refuses an absolute URI on another host, naming it, and sends nothing' {
            $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri 'https://evil.example/v1.0/me' })
            $failure[0].FullyQualifiedErrorId | Should -Be 'OutsideGraphEndpoint,Microsoft.Graph.Beta.PowerShell.Cmdlets.InvokeMgGraphRequest'
            $failure[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $failure[0].Exception.Message | Should -BeLike '*https://evil.example*'
            $failure[0].Exception.Message | Should -BeLike "*$($Mock.BaseUrl)*"
            @(Get-Sent) | Should -HaveCount 0
        }

        It 'refuses the connected host on another port' {
            $other = $Mock.BaseUrl -replace ':\d+$', ':9'
            { Invoke-MgGraphRequest -Uri "$other/v1.0/me" } | Should -Throw -ErrorId 'OutsideGraphEndpoint,Microsoft.Graph.Beta.PowerShell.Cmdlets.InvokeMgGraphRequest'
        }

        It 'refuses a relative URI without an API version, saying how to write it' {
            $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri 'users/x' })
            $failure[0].FullyQualifiedErrorId | Should -BeLike 'InvokeGraphRequestInvalidArgument,*'
            $failure[0].Exception.Message | Should -BeLike '*v1.0/users/x*'
            @(Get-Sent) | Should -HaveCount 0
        }
    }

    Context 'output types' {
        It 'writes a JSON answer as case-insensitive hashtables with Newtonsoft''s value types by default' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo'
            $answer | Should -BeOfType ([hashtable])
            $answer.METHOD | Should -Be 'GET'
            $answer.nested | Should -BeOfType ([hashtable])
            $answer.Nested.Inner.Leaf | Should -Be 'deep'
            $answer.count | Should -BeOfType ([long])
            $answer.count | Should -Be 42
            $answer.ratio | Should -BeOfType ([double])
            $answer.createdDateTime | Should -BeOfType ([datetime])
            $answer.createdDateTime.Kind | Should -Be 'Utc'
            $answer.createdDateTime | Should -Be ([datetime]::new(2024, 5, 1, 10, 20, 30, [System.DateTimeKind]::Utc))
            , $answer.list | Should -BeOfType ([object[]])
            $answer.list[2].three | Should -Be 3
            $answer.ContainsKey('nothing') | Should -BeTrue
            $answer.nothing | Should -BeNullOrEmpty
        }

        It 'writes PSCustomObjects with -OutputType PSObject' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -OutputType PSObject
            $answer | Should -BeOfType ([pscustomobject])
            $answer.nested.inner.leaf | Should -Be 'deep'
            $answer.count | Should -BeOfType ([long])
        }

        It 'writes the JSON text with -OutputType Json' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -OutputType Json
            $answer | Should -BeOfType ([string])
            ($answer | ConvertFrom-Json).nested.inner.leaf | Should -Be 'deep'
        }

        It 'writes the whole response with -OutputType HttpResponseMessage' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -OutputType HttpResponseMessage
            $answer | Should -BeOfType ([System.Net.Http.HttpResponseMessage])
            $answer.StatusCode | Should -Be 'OK'
            @($answer.Headers.GetValues('x-mock-echo')) | Should -Be @('echoed')
            $answer.Content.Headers.ContentType.MediaType | Should -Be 'application/json'
            ($answer.Content.ReadAsStringAsync().GetAwaiter().GetResult() | ConvertFrom-Json).path | Should -Be '/v1.0/mock/echo'
            $answer.RequestMessage.RequestUri.AbsolutePath | Should -Be '/v1.0/mock/echo'
        }

        It 'writes a text/plain answer as a string' {
            Invoke-MgGraphRequest -Uri 'v1.0/mock/text' | Should -Be 'plain text answer'
        }

        It 'refuses to write a binary answer to the pipeline, pointing at -OutputFilePath' {
            $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri 'v1.0/mock/bytes' })
            $failure[0].FullyQualifiedErrorId | Should -BeLike 'InvokeGraphContentTypeException,*'
            $failure[0].Exception.Message | Should -BeLike '*-OutputFilePath*'
        }

        It 'gives a binary answer as an HttpResponseMessage with its exact bytes' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/bytes' -OutputType HttpResponseMessage
            $bytes = $answer.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
            $bytes.Length | Should -Be 256
            $bytes[255] | Should -Be 255
        }

        It 'writes nothing for an answer without a body' {
            $answer = @(Invoke-MgGraphRequest -Method DELETE -Uri 'v1.0/mock/empty' -StatusCodeVariable status)
            $answer | Should -HaveCount 0
            $status | Should -Be 204
        }
    }

    Context 'files' {
        It 'writes the body to -OutputFilePath, relative to the current location, and nothing to the pipeline' {
            Push-Location $Scratch
            try { $output = Invoke-MgGraphRequest -Uri 'v1.0/mock/bytes' -OutputFilePath 'bytes.bin' }
            finally { Pop-Location }
            $output | Should -BeNullOrEmpty
            $bytes = [System.IO.File]::ReadAllBytes((Join-Path $Scratch 'bytes.bin'))
            $bytes.Length | Should -Be 256
            $bytes[0] | Should -Be 0
            $bytes[200] | Should -Be 200
        }

        It 'writes the file and the answer with -PassThru' {
            $path = Join-Path $Scratch 'echo.json'
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -OutputFilePath $path -PassThru
            $answer.path | Should -Be '/v1.0/mock/echo'
            (Get-Content $path -Raw | ConvertFrom-Json).path | Should -Be '/v1.0/mock/echo'
        }

        It 'names the file after Content-Disposition with -InferOutputFileName, keeping it in the current folder' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $Scratch 'infer')
            Push-Location $folder
            try { $output = Invoke-MgGraphRequest -Uri 'v1.0/mock/bytes' -InferOutputFileName }
            finally { Pop-Location }
            $output | Should -BeNullOrEmpty
            $saved = @(Get-ChildItem -Path $folder -File -Force)
            $saved | Should -HaveCount 1
            $saved[0].Name | Should -Be 'escapebytes.bin'
            $saved[0].Length | Should -Be 256
            Test-Path (Join-Path $Scratch 'escape') | Should -BeFalse
        }

        It 'never replaces an existing file under a name the server chose, and keeps a binary answer saved with -PassThru' {
            $folder = New-Item -ItemType Directory -Path (Join-Path $Scratch 'keep')
            Set-Content -Path (Join-Path $folder 'escapebytes.bin') -Value 'mine'
            Push-Location $folder
            try { { Invoke-MgGraphRequest -Uri 'v1.0/mock/bytes' -InferOutputFileName } | Should -Throw -ErrorId 'InvokeGraphRequestOutputFileUnwritable,*' }
            finally { Pop-Location }
            (Get-Content (Join-Path $folder 'escapebytes.bin') -Raw).Trim() | Should -Be 'mine'
            $path = Join-Path $folder 'kept.bin'
            { Invoke-MgGraphRequest -Uri 'v1.0/mock/bytes' -OutputFilePath $path -PassThru } | Should -Throw -ErrorId 'InvokeGraphContentTypeException,*'
            (Get-Item $path).Length | Should -Be 256
        }

        It 'reports an output folder that does not exist as a WriteError naming the path' {
            $missing = Join-Path $Scratch 'no-such-folder/out.json'
            $failure = { Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -OutputFilePath $missing } | Should -Throw -ErrorId 'InvokeGraphRequestOutputFileUnwritable,*' -PassThru
            $failure.CategoryInfo.Category | Should -Be 'WriteError'
            $failure.Exception.Message | Should -BeLike "*$missing*"
        }

        It 'refuses -PassThru without -OutputFilePath' {
            { Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -PassThru } | Should -Throw -ErrorId 'InvokeGraphRequestOutFileMissingException,*'
        }

        It 'sends the content of -InputFilePath as the body' {
            $path = Join-Path $Scratch 'input.json'
            Set-Content -Path $path -Value '{"fromFile":true}' -NoNewline
            $answer = Invoke-MgGraphRequest -Method POST -Uri 'v1.0/mock/echo' -InputFilePath $path
            $answer.body | Should -Be '{"fromFile":true}'
        }
    }

    Context 'bodies' {
        It 'sends a string body as it is, as application/json for <Method>' -ForEach @(@{ Method = 'POST' }, @{ Method = 'PUT' }, @{ Method = 'PATCH' }) {
            $answer = Invoke-MgGraphRequest -Method $Method -Uri 'v1.0/mock/echo' -Body '{"displayName":"Adele"}'
            $answer.method | Should -Be $Method
            $answer.body | Should -Be '{"displayName":"Adele"}'
            $answer.headers.'content-type' | Should -Be 'application/json'
        }

        It 'sends a hashtable as JSON, nested values at any depth' {
            $body = @{ accountEnabled = $false; count = 3; tags = @('a', 'b'); deep = @{ one = @{ two = @{ three = 'bottom' } } }; nothing = $null }
            $answer = Invoke-MgGraphRequest -Method PATCH -Uri 'v1.0/mock/echo' -Body $body
            $sent = $answer.body | ConvertFrom-Json -AsHashtable
            $sent.accountEnabled | Should -BeFalse
            $sent.count | Should -Be 3
            $sent.tags | Should -Be @('a', 'b')
            $sent.deep.one.two.three | Should -Be 'bottom'
            $sent.ContainsKey('nothing') | Should -BeTrue
            $answer.body | Should -Match '"accountEnabled":false'
        }

        It 'sends a PSCustomObject as JSON' {
            $body = [pscustomobject]@{ displayName = 'Adele'; manager = [pscustomobject]@{ id = 'm1' } }
            $answer = Invoke-MgGraphRequest -Method POST -Uri 'v1.0/mock/echo' -Body $body
            ($answer.body | ConvertFrom-Json).manager.id | Should -Be 'm1'
        }

        It 'sends Get-Content lines of a JSON file (a string array) as one JSON text, and other arrays as JSON arrays' {
            $file = Join-Path ([System.IO.Path]::GetTempPath()) "body-$([guid]::NewGuid().ToString('n')).json"
            Set-Content -Path $file -Value '{', '  "accountEnabled": false', '}'
            $answer = Invoke-MgGraphRequest -Method PATCH -Uri 'v1.0/mock/echo' -Body (Get-Content $file)
            Remove-Item $file
            $answer.body | Should -Be '{   "accountEnabled": false }'
            ($answer.body | ConvertFrom-Json).accountEnabled | Should -BeFalse
            $answer = Invoke-MgGraphRequest -Method POST -Uri 'v1.0/mock/echo' -Body @(1, 2)
            $answer.body | Should -Be '[1,2]'
        }

        It 'takes the body from the pipeline' {
            $answer = '{"piped":1}' | Invoke-MgGraphRequest -Method POST -Uri 'v1.0/mock/echo'
            $answer.body | Should -Be '{"piped":1}'
        }

        It 'sends a byte array as its bytes with the given -ContentType' {
            $answer = Invoke-MgGraphRequest -Method PUT -Uri 'v1.0/mock/echo' -Body ([byte[]](104, 105)) -ContentType 'text/plain'
            $answer.body | Should -Be 'hi'
            $answer.headers.'content-type' | Should -Be 'text/plain'
        }

        It 'turns a GET''s hashtable body into the query string' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -Body @{ '$top' = 5 }
            $answer.query | Should -Be '%24top=5'
            $answer.bodyLength | Should -Be 0
        }

        It 'refuses -Body together with -InputFilePath' {
            { Invoke-MgGraphRequest -Method POST -Uri 'v1.0/mock/echo' -Body 'x' -InputFilePath $PSCommandPath } | Should -Throw -ErrorId 'InvokeGraphRequestBodyConflictException,*'
        }
    }

    Context 'headers and sessions' {
        It 'sends -Headers and -UserAgent' {
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -Headers @{ ConsistencyLevel = 'eventual'; 'x-skipped' = $null } -UserAgent 'incident-script/1.0'
            $answer.headers.consistencylevel | Should -Be 'eventual'
            $answer.headers.'user-agent' | Should -Be 'incident-script/1.0'
            $answer.headers.ContainsKey('x-skipped') | Should -BeFalse
        }

        It 'refuses to override Authorization, pointing at Connect-MgGraph, and sends nothing' {
            $failure = @(Get-TerminatingError { Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -Headers @{ Authorization = 'Bearer stolen' } })
            $failure[0].FullyQualifiedErrorId | Should -BeLike 'InvalidHeader,*'
            $failure[0].Exception.Message | Should -BeLike '*Connect-MgGraph*'
            @(Get-Sent) | Should -HaveCount 0
        }

        It 'keeps headers in -SessionVariable and sends them again with -GraphRequestSession' {
            Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -Headers @{ 'x-incident' = 'IR-1' } -SessionVariable incident | Out-Null
            $incident | Should -BeOfType ([Microsoft.Graph.Beta.PowerShell.Models.GraphRequestSession])
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -GraphRequestSession $incident
            $answer.headers.'x-incident' | Should -Be 'IR-1'
        }
    }

    Context '-Debug' {
        It 'shows the exchange with the token redacted' {
            $DebugPreference = 'Continue'
            $trace = (Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message -join "`n"
            $DebugPreference = 'SilentlyContinue'
            $trace | Should -BeLike '*GET http://127.0.0.1:*/v1.0/mock/echo*'
            $trace | Should -BeLike '*Bearer `[redacted`]*'
            $trace | Should -Not -BeLike "*$($Token.Substring(0, 40))*"
        }
    }

    Context 'status and headers variables' {
        It 'sets -StatusCodeVariable and -ResponseHeadersVariable in the caller''s scope' {
            function Invoke-InScope {
                Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -StatusCodeVariable code -ResponseHeadersVariable headers | Out-Null
                [pscustomobject]@{ Code = $code; Headers = $headers }
            }
            Remove-Variable code, headers -Scope Global -ErrorAction SilentlyContinue
            $seen = Invoke-InScope
            $seen.Code | Should -Be 200
            $seen.Code | Should -BeOfType ([int])
            @($seen.Headers['X-MOCK-ECHO']) | Should -Be @('echoed')
            @($seen.Headers['content-type'])[0] | Should -BeLike 'application/json*'
            Get-Variable code -Scope Global -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'answers to the RHV alias' {
            Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' -RHV seenHeaders | Out-Null
            @($seenHeaders['x-mock-echo']) | Should -Be @('echoed')
        }
    }

    Context 'Graph errors' {
        It 'makes an error status a terminating error with Graph''s code, message and details' {
            $caught = $null
            try { Invoke-MgGraphRequest -Uri 'v1.0/users/nobody@contoso.com' -StatusCodeVariable status; throw 'no error' }
            catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -Be 'InvokeGraphHttpResponseException,Microsoft.Graph.Beta.PowerShell.Cmdlets.InvokeMgGraphRequest'
            $caught.CategoryInfo.Category | Should -Be 'InvalidOperation'
            $caught.Exception.Message | Should -BeLike "[[]Request_ResourceNotFound] : Resource 'nobody@contoso.com' does not exist*HTTP 404 NotFound*request-id: *"
            $caught.Exception.StatusCode | Should -Be 'NotFound'
            $caught.Exception.Code | Should -Be 'Request_ResourceNotFound'
            $caught.Exception.Response.StatusCode | Should -Be 'NotFound'
            ($caught.ErrorDetails.Message | ConvertFrom-Json).error.code | Should -Be 'Request_ResourceNotFound'
            $status | Should -Be 404
        }

        It 'reads a user that exists' {
            $user = Invoke-MgGraphRequest -Uri "v1.0/users/$($Adele.Id)"
            $user.userPrincipalName | Should -Be 'adele.vance@contoso.com'
        }

        It 'returns the error body without an error with -SkipHttpErrorCheck' {
            $failure = $null
            $answer = Invoke-MgGraphRequest -Uri 'beta/mock/status/409' -SkipHttpErrorCheck -StatusCodeVariable status -ErrorVariable failure
            $failure | Should -BeNullOrEmpty
            $status | Should -Be 409
            $answer.error.code | Should -Be 'Mock_Status409'
        }

        It 'retries a 503 and answers what Graph answered next' {
            Invoke-MockControl $Mock POST faults @{ match = @{ pathContains = 'mock/echo' }; status = 503; headers = @{ 'Retry-After' = '1' } } | Out-Null
            $answer = Invoke-MgGraphRequest -Uri 'v1.0/mock/echo'
            $answer.path | Should -Be '/v1.0/mock/echo'
            @(Get-Sent) | Should -HaveCount 2
        }
    }

    Context 'without a connection' {
        AfterAll { Connect-GraphMock $Mock -Token $Token }

        It 'says authentication is needed and sends nothing' {
            Disconnect-MgGraph | Out-Null
            { Invoke-MgGraphRequest -Uri 'v1.0/mock/echo' } | Should -Throw -ErrorId 'AuthenticationNeeded,*'
            @(Get-Sent) | Should -HaveCount 0
        }
    }
}

Describe 'Invoke-MgGraphRequest beside the official Microsoft.Graph.Authentication' -Tag CI -Skip:$NoPeer {
    It 'works on the official connection, and both modules'' Invoke-MgGraphRequest work whichever was imported last (<First> first)' -ForEach @(
        @{ First = 'official'; Resolved = 'Microsoft.Graph.Beta.Users.Actions' }
        @{ First = 'ours'; Resolved = 'Microsoft.Graph.Authentication' }
    ) {
        Clear-MockRequests $Mock
        $imports = if ($First -eq 'official') { 'Import-Module $env:OFFICIAL; Import-Module $env:OURS' } else { 'Import-Module $env:OURS; Import-Module $env:OFFICIAL' }
        $result = Invoke-Child -Script @"
`$ErrorActionPreference = 'Stop'
$imports
Microsoft.Graph.Authentication\Add-MgEnvironment -Name Mock -GraphEndpoint `$env:MOCK_URL -AzureADEndpoint `$env:MOCK_URL | Out-Null
Microsoft.Graph.Authentication\Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString `$env:MOCK_TOKEN -AsPlainText -Force) -NoWelcome
[ordered]@{
    Resolved = (Get-Command Invoke-MgGraphRequest).Source
    Ours = (Microsoft.Graph.Beta.Users.Actions\Invoke-MgGraphRequest -Uri 'v1.0/mock/echo').path
    Official = (Microsoft.Graph.Authentication\Invoke-MgGraphRequest -Uri 'beta/mock/echo').path
    Plain = (Invoke-MgGraphRequest -Uri 'v1.0/mock/text')
} | ConvertTo-Json -Compress
"@
        $result.Resolved | Should -Be $Resolved
        $result.Ours | Should -Be '/v1.0/mock/echo'
        $result.Official | Should -Be '/beta/mock/echo'
        $result.Plain | Should -Be 'plain text answer'
        # Every request carried the official connection's token (the mock verified it).
        @(Get-Sent | Where-Object { $_.rawPath -like '*/mock/*' }) | Should -HaveCount 3
    }
}
