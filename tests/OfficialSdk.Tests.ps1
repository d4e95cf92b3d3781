# Beside the official SDK: the official Microsoft.Graph.Authentication built from source
# (../shared/peers, see its README) and this module in real child pwsh processes, imported by
# hand in both orders, by autoload in both PSModulePath orders and by #Requires; one
# Connect-MgGraph serves both modules' cmdlets against the mock, Disconnect-MgGraph ends both.
# Both modules export Invoke-MgGraphRequest, so the official one is called by its qualified name
# here (tests/InvokeMgGraphRequest.Tests.ps1 covers ours beside it).

BeforeDiscovery {
    $script:PeerRoot = if ($env:GRAPH_OFFICIAL_PEERS) { $env:GRAPH_OFFICIAL_PEERS } else { Join-Path $PSScriptRoot '../../shared/peers' }
    $script:NoPeer = -not (Test-Path (Join-Path $PeerRoot 'Microsoft.Graph.Authentication/2.25.0/Microsoft.Graph.Authentication.psd1'))
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:PeerRoot = if ($env:GRAPH_OFFICIAL_PEERS) { $env:GRAPH_OFFICIAL_PEERS } else { Join-Path $PSScriptRoot '../../shared/peers' }
    $script:OfficialManifest = Join-Path $PeerRoot 'Microsoft.Graph.Authentication/2.25.0/Microsoft.Graph.Authentication.psd1'
    $script:Manifest = Get-ModuleManifestPath
    # A PSModulePath folder holding only this module (out/ may hold other things).
    $script:Scratch = Join-Path ([System.IO.Path]::GetTempPath()) "official-sdk-$([guid]::NewGuid().ToString('n'))"
    $script:OursFolder = Join-Path $Scratch 'ours'
    New-Item -ItemType Directory -Path $OursFolder | Out-Null
    New-Item -ItemType SymbolicLink -Path (Join-Path $OursFolder 'Microsoft.Graph.Beta.Users.Actions') -Target (Split-Path (Split-Path $Manifest -Parent) -Parent) | Out-Null
    $script:Mock = Start-GraphMock
    Invoke-MockControl $Mock POST users @{ users = @(
            @{ id = [guid]::NewGuid().ToString(); userPrincipalName = 'a@contoso.com' }
            @{ id = [guid]::NewGuid().ToString(); userPrincipalName = 'b@contoso.com' }
            foreach ($i in 1..200) { @{ id = [guid]::NewGuid().ToString(); userPrincipalName = "user$i@contoso.com" } }
        ) } | Out-Null

    function Invoke-Child {
        # Runs a script in a new pwsh with a scratch HOME (the official module writes ~/.mg) and
        # data folder, the given PSModulePath folders, and the mock's URL and a token in the
        # environment; returns the JSON object the script's last output line holds.
        param([Parameter(Mandatory)] [string] $Script, [string[]] $ModulePath = @(), [string] $HomeFolder = (Join-Path $Scratch 'home'))
        $file = Join-Path $Scratch "child-$([guid]::NewGuid().ToString('n')).ps1"
        Set-Content -Path $file -Value $Script
        $start = [System.Diagnostics.ProcessStartInfo]::new((Get-Command pwsh -CommandType Application)[0].Source)
        foreach ($argument in '-NoProfile', '-NonInteractive', '-File', $file) { $start.ArgumentList.Add($argument) }
        $start.Environment['HOME'] = $HomeFolder
        $start.Environment['GRAPH_BETA_DATA_DIR'] = Join-Path $HomeFolder 'data'
        $start.Environment['PSModulePath'] = (@($ModulePath) + (Join-Path $PSHOME 'Modules')) -join [System.IO.Path]::PathSeparator
        $start.Environment['MOCK_URL'] = $Mock.BaseUrl
        $start.Environment['MOCK_TOKEN'] = New-MockToken $Mock
        $start.Environment['MOCK_TOKEN_NO_ROLE'] = New-MockToken $Mock -Roles @()
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

    # Both modules keep added environments across processes (the official one under ~/.mg), so
    # the children below start with 'Mock' known to both, as a user's machine would.
    # Without the peer module (a machine without ../shared/peers) only the suites that need
    # no official module run.
    New-Item -ItemType Directory -Path (Join-Path $Scratch 'home/data') -Force | Out-Null
    if (Test-Path $OfficialManifest) {
        $setup = Invoke-Child -Script @'
$ErrorActionPreference = 'Stop'
Import-Module $env:OFFICIAL
Import-Module $env:OURS
Microsoft.Graph.Authentication\Add-MgEnvironment -Name Mock -GraphEndpoint $env:MOCK_URL -AzureADEndpoint $env:MOCK_URL | Out-Null
Microsoft.Graph.Beta.Users.Actions\Add-MgEnvironment -Name Mock -GraphEndpoint $env:MOCK_URL -AzureADEndpoint $env:MOCK_URL | Out-Null
@{ Done = $true } | ConvertTo-Json -Compress
'@
        $setup.Done | Should -BeTrue
    }

    # One Connect-MgGraph (whichever module's the name resolves to), then each module's cmdlet,
    # then one Disconnect-MgGraph: what the scripts in sibling-cmdlets.md do.
    $script:Scenario = @'
$ErrorActionPreference = 'Stop'
$result = [ordered]@{}
Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $env:MOCK_TOKEN -AsPlainText -Force) -NoWelcome
$result.ConnectedBy = (Get-Command Connect-MgGraph).Source
$result.Environment = (Get-MgContext).Environment
$result.Ours = (Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com) -eq $true
$result.Official = (Microsoft.Graph.Authentication\Invoke-MgGraphRequest -Method POST 'beta/users/b@contoso.com/invalidateAllRefreshTokens').value
$result.Loaded = @(Get-Module Microsoft.Graph.* | ForEach-Object Name | Sort-Object)
Disconnect-MgGraph | Out-Null
$result.OursAfter = try { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com; 'no error' } catch { $_.FullyQualifiedErrorId }
$result.OfficialAfter = try { Microsoft.Graph.Authentication\Invoke-MgGraphRequest -Method POST 'beta/users/b@contoso.com/invalidateAllRefreshTokens' | Out-Null; 'no error' } catch { "$_" }
$result.ContextAfter = @(Get-MgContext).Count
$result | ConvertTo-Json -Compress
'@

    function Get-Requests {
        # The control API answers one JSON array, which Invoke-RestMethod writes as one object.
        Get-MockRequests $Mock | ForEach-Object { $_ }
    }

    function Assert-OneSignIn {
        param([Parameter(Mandatory)] $Result)
        $Result.Loaded | Should -Be @('Microsoft.Graph.Authentication', 'Microsoft.Graph.Beta.Users.Actions')
        $Result.Environment | Should -Be 'Mock'
        $Result.Ours | Should -BeTrue
        $Result.Official | Should -BeTrue
        $Result.OursAfter | Should -BeLike 'AuthenticationNeeded,*'
        $Result.OfficialAfter | Should -BeLike '*Authentication needed*'
        $Result.ContextAfter | Should -Be 0
        # Both modules' calls reached the connected custom environment, each user once.
        $paths = @(Get-Requests | Where-Object { $_.rawPath -like '*invalidateAllRefreshTokens' } | ForEach-Object rawPath)
        $paths | Should -HaveCount 2
        @($paths -like '/beta/users/a*contoso.com/invalidateAllRefreshTokens') | Should -HaveCount 1
        @($paths -like '/beta/users/b*contoso.com/invalidateAllRefreshTokens') | Should -HaveCount 1
    }
}

AfterAll {
    Stop-GraphMock $script:Mock
    Remove-Item -Recurse -Force $script:Scratch -ErrorAction SilentlyContinue
}

Describe 'one sign-in beside the official Microsoft.Graph.Authentication' -Tag CI -Skip:$NoPeer {
    BeforeEach { Clear-MockRequests $Mock }

    It 'serves both modules with one Connect-MgGraph, and one Disconnect-MgGraph ends both, when imported <Name>' -TestCases @(
        @{ Name = 'this module first'; Prelude = "Import-Module `$env:OURS; Import-Module `$env:OFFICIAL"; ConnectedBy = 'Microsoft.Graph.Authentication' }
        @{ Name = 'the official module first'; Prelude = "Import-Module `$env:OFFICIAL; Import-Module `$env:OURS"; ConnectedBy = 'Microsoft.Graph.Beta.Users.Actions' }
    ) {
        $result = Invoke-Child -Script "$Prelude`n$Scenario"
        $result.ConnectedBy | Should -Be $ConnectedBy
        Assert-OneSignIn $result
    }

    It 'serves both modules when they autoload with <Name> first on PSModulePath' -TestCases @(
        @{ Name = 'this module'; OursFirst = $true }
        @{ Name = 'the official module'; OursFirst = $false }
    ) {
        $folders = if ($OursFirst) { $OursFolder, $PeerRoot } else { $PeerRoot, $OursFolder }
        $result = Invoke-Child -Script $Scenario -ModulePath $folders
        Assert-OneSignIn $result
    }

    It 'serves both modules when a script #Requires them, <Name> first' -TestCases @(
        @{ Name = 'this module (ModuleVersion 2.17.0)'; Requires = "#Requires -Modules @{ ModuleName = 'Microsoft.Graph.Beta.Users.Actions'; ModuleVersion = '2.17.0' }, Microsoft.Graph.Authentication" }
        @{ Name = 'the official module'; Requires = "#Requires -Modules Microsoft.Graph.Authentication, @{ ModuleName = 'Microsoft.Graph.Beta.Users.Actions'; ModuleVersion = '2.17.0' }" }
    ) {
        $result = Invoke-Child -Script "$Requires`n$Scenario" -ModulePath $OursFolder, $PeerRoot
        Assert-OneSignIn $result
    }

    It 'revokes 200 piped users in order with the official module''s connection, in JSON batches' {
        # Users travel together only while a request is in flight: an instant mock can answer
        # each one before the next is piped, and then every user rightly goes alone. A little
        # latency, as on the real network, makes batching the case under test (CI saw that race).
        Invoke-MockControl $Mock PUT latency @{ ms = 20 } | Out-Null
        try {
            $result = Invoke-Child -Script @'
$ErrorActionPreference = 'Stop'
Import-Module $env:OFFICIAL
Import-Module $env:OURS
Microsoft.Graph.Authentication\Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $env:MOCK_TOKEN -AsPlainText -Force) -NoWelcome
$users = @(1..200 | ForEach-Object { "user$_@contoso.com" })
$users[99] = 'nobody@contoso.com'
$results = @($users | Invoke-MgBetaInvalidateAllUserRefreshToken -ErrorAction Continue 2>&1)
$errorsAt = @(for ($i = 0; $i -lt $results.Count; $i++) { if ($results[$i] -is [System.Management.Automation.ErrorRecord]) { $i } })
@{
    Count = $results.Count
    Trues = @($results | Where-Object { $_ -is [bool] -and $_ }).Count
    ErrorsAt = $errorsAt
    Target = "$($results[99].TargetObject)"
} | ConvertTo-Json -Compress
'@
        }
        finally { Invoke-MockControl $Mock PUT latency @{ ms = 0 } | Out-Null }
        $result.Count | Should -Be 200
        $result.Trues | Should -Be 199
        $result.ErrorsAt | Should -Be @(99)
        $result.Target | Should -Be 'nobody@contoso.com'
        $requests = @(Get-Requests)
        # Sent in JSON batches (how they are cut depends on timing; the mock records each batch
        # and each of its items).
        @($requests | Where-Object rawPath -like '*$batch').Count | Should -BeGreaterOrEqual 1
    }

    It 'follows the official connection when it changes: a new token is a new session' {
        $result = Invoke-Child -Script @'
$ErrorActionPreference = 'Stop'
Import-Module $env:OFFICIAL
Import-Module $env:OURS
Microsoft.Graph.Authentication\Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $env:MOCK_TOKEN -AsPlainText -Force) -NoWelcome
$first = (Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com) -eq $true
$again = (Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com) -eq $true
Microsoft.Graph.Authentication\Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $env:MOCK_TOKEN_NO_ROLE -AsPlainText -Force) -NoWelcome
$second = try { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com; 'no error' } catch { $_.FullyQualifiedErrorId }
@{ First = $first; Again = $again; Second = $second } | ConvertTo-Json -Compress
'@
        $result.First | Should -BeTrue
        $result.Again | Should -BeTrue
        $result.Second | Should -BeLike 'Authorization_RequestDenied,*'
        $tokens = @(Get-Requests | ForEach-Object { $_.headers.authorization })
        $tokens | Should -HaveCount 3
        $tokens[1] | Should -Be $tokens[0]
        $tokens[2] | Should -Not -Be $tokens[0]
    }

    It 'hands a cloud added with this module''s Add-MgEnvironment to the official module when it signs in with it' {
        $freshHome = Join-Path $Scratch "home-$([guid]::NewGuid().ToString('n'))"
        $result = Invoke-Child -HomeFolder $freshHome -Script @'
$ErrorActionPreference = 'Stop'
Import-Module $env:OURS
Import-Module $env:OFFICIAL
Microsoft.Graph.Beta.Users.Actions\Add-MgEnvironment -Name OursOnly -GraphEndpoint $env:MOCK_URL -AzureADEndpoint $env:MOCK_URL | Out-Null
$before = @(Microsoft.Graph.Authentication\Get-MgEnvironment | Where-Object Name -eq OursOnly).Count
Microsoft.Graph.Beta.Users.Actions\Connect-MgGraph -Environment OursOnly -AccessToken (ConvertTo-SecureString $env:MOCK_TOKEN -AsPlainText -Force) -NoWelcome
@{
    Before = $before
    Environment = (Microsoft.Graph.Authentication\Get-MgContext).Environment
    Ours = (Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com) -eq $true
    Official = (Microsoft.Graph.Authentication\Invoke-MgGraphRequest -Method POST 'beta/users/b@contoso.com/invalidateAllRefreshTokens').value
} | ConvertTo-Json -Compress
'@
        $result.Before | Should -Be 0
        $result.Environment | Should -Be 'OursOnly'
        $result.Ours | Should -BeTrue
        $result.Official | Should -BeTrue
        @(Get-Requests | Where-Object { $_.rawPath -like '*invalidateAllRefreshTokens' }) | Should -HaveCount 2
    }

    It 'says to call Connect-MgGraph when neither module is connected' {
        $result = Invoke-Child -Script @'
Import-Module $env:OFFICIAL
Import-Module $env:OURS
$failure = try { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com; $null } catch { $_ }
@{ Id = $failure.FullyQualifiedErrorId; Category = "$($failure.CategoryInfo.Category)"; Message = "$failure" } | ConvertTo-Json -Compress
'@
        $result.Id | Should -BeLike 'AuthenticationNeeded,*'
        $result.Category | Should -Be 'AuthenticationError'
        $result.Message | Should -Be 'Authentication needed. Please call Connect-MgGraph.'
        @(Get-Requests).Count | Should -Be 0
    }
}

Describe 'an official module whose internals differ' -Tag CI {
    It 'gives one clear error that says what to do, not a reflection stack trace' {
        # A stand-in Microsoft.Graph.Authentication.Core whose GraphSession has none of the members read.
        $result = Invoke-Child -Script @'
$assembly = [System.Reflection.Emit.AssemblyBuilder]::DefineDynamicAssembly([System.Reflection.AssemblyName]::new('Microsoft.Graph.Authentication.Core'), 'Run')
$null = $assembly.DefineDynamicModule('Core').DefineType('Microsoft.Graph.PowerShell.Authentication.GraphSession', 'Public').CreateType()
Import-Module $env:OURS
$failure = try { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com; $null } catch { $_ }
@{ Id = $failure.FullyQualifiedErrorId; Category = "$($failure.CategoryInfo.Category)"; Message = "$failure"; Inner = "$($failure.Exception.InnerException.GetType().Name)" } | ConvertTo-Json -Compress
'@
        $result.Id | Should -BeLike 'OfficialConnectionUnreadable,*'
        $result.Category | Should -Be 'NotImplemented'
        $result.Message | Should -BeLike 'The official Microsoft.Graph.Authentication * is loaded but its connection could not be read (MissingMemberException: GraphSession.Exists is missing). *update this module*'
        $result.Message | Should -Not -Match '\bat [A-Z][\w.]+\('
        $result.Inner | Should -Be 'MissingMemberException'
    }
}

Describe 'Connect-MgGraph -AccessToken with a plain string' -Tag CI {
    BeforeAll {
        Import-Module $Manifest -Force
        Add-MgEnvironment -Name Mock -GraphEndpoint $Mock.BaseUrl -AzureADEndpoint $Mock.BaseUrl | Out-Null
    }

    AfterAll { Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null }

    It 'keeps the parameter a SecureString' {
        (Get-Command Connect-MgGraph -Module Microsoft.Graph.Beta.Users.Actions).Parameters['AccessToken'].ParameterType | Should -Be ([securestring])
    }

    It 'converts the string while binding, warns once, and the token works' {
        Clear-MockRequests $Mock
        $token = New-MockToken $Mock
        Connect-MgGraph -Environment Mock -AccessToken $token -NoWelcome -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike '*-AccessToken was given as plain text*SecureString*'
        "$($warnings[0])" | Should -Not -Match ([regex]::Escape($token))
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId a@contoso.com | Should -BeTrue
        @(Get-Requests)[0].headers.authorization | Should -Be "Bearer $token"
    }

    It 'does not warn for a SecureString' {
        Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString (New-MockToken $Mock) -AsPlainText -Force) -NoWelcome -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings | Should -HaveCount 0
    }
}

Describe 'the version' -Tag CI {
    It 'is on the official 2.x line, at least 2.25.0, the same in the manifest and the assembly' {
        $manifestVersion = [version](Import-PowerShellDataFile $Manifest).ModuleVersion
        $manifestVersion | Should -BeGreaterOrEqual ([version]'2.25.0')
        $manifestVersion.Major | Should -Be 2
        $assembly = Join-Path (Split-Path $Manifest -Parent) 'Microsoft.Graph.Beta.Users.Actions.dll'
        [System.Reflection.AssemblyName]::GetAssemblyName($assembly).Version.ToString(3) | Should -Be $manifestVersion.ToString(3)
        (Split-Path (Split-Path $Manifest -Parent) -Leaf) | Should -Be $manifestVersion.ToString(3)
    }
}
