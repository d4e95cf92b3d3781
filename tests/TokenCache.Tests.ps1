# The CurrentUser token cache, with real pwsh child processes and real files: a second process
# signs in from it without a new device code, two processes hammering it leave it valid, the
# file is owner-only and encrypted (no token in it, nor in any stream), a damaged file is an
# empty cache, a revoked refresh token is dropped from it, Disconnect-MgGraph removes its entry.
# Every test uses a folder of its own through GRAPH_BETA_DATA_DIR: never the real user cache.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Manifest = Get-ModuleManifestPath
    $script:PreviousDataDir = $env:GRAPH_BETA_DATA_DIR
    Import-Module $Manifest -Force
    $script:Mock = Start-GraphMock
    Add-MgEnvironment -Name Mock -GraphEndpoint $Mock.BaseUrl -AzureADEndpoint $Mock.BaseUrl | Out-Null
    $script:TenantId = [guid]::NewGuid().ToString()
    $script:User = Add-MockUser $Mock 'adele@contoso.com'
    Invoke-MockControl $Mock POST apps @{ appId = '14d82eec-204b-4c2f-b7e8-296a70dab67e'; tenantId = $TenantId } | Out-Null
    Invoke-MockControl $Mock POST devicecode @{ interval = 0 } | Out-Null
    $script:Folders = [System.Collections.Generic.List[string]]::new()

    function script:New-DataDir {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "graph-cache-tests-$([guid]::NewGuid().ToString('n'))"
        $script:Folders.Add($dir)
        New-Item -ItemType Directory -Path $dir | Out-Null
        $env:GRAPH_BETA_DATA_DIR = $dir
        $dir
    }

    if ($IsLinux -and -not ('GraphTests.KernelKeys' -as [type])) {
        Add-Type -TypeDefinition @'
using System.Runtime.InteropServices;
namespace GraphTests
{
    public static class KernelKeys
    {
        [DllImport("libc", EntryPoint = "syscall")]
        private static extern long Search(long number, long operation, long keyring, [MarshalAs(UnmanagedType.LPUTF8Str)] string type, [MarshalAs(UnmanagedType.LPUTF8Str)] string description, long destination);

        [DllImport("libc", EntryPoint = "syscall")]
        private static extern long Invalidate(long number, long operation, long key);

        // keyctl(KEYCTL_SEARCH, session keyring (which links the persistent one), "user", description) then KEYCTL_INVALIDATE.
        public static bool Remove(string description)
        {
            long keyctl = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 219 : 250;
            long key = Search(keyctl, 10, -3, "user", description, 0);
            return key > 0 && Invalidate(keyctl, 21, key) == 0;
        }
    }
}
'@
    }

    function script:Remove-CacheKey([string] $Folder) {
        # The module deletes a cache's key from the kernel key store when the cache empties;
        # a test that leaves entries behind removes the key itself, so no test run leaves keys
        # in the user's key store.
        $file = Join-Path $Folder 'token-cache.json'
        if (-not $IsLinux -or -not (Test-Path $file)) { return }
        $keyId = (Get-Content $file -Raw | ConvertFrom-Json).keyId
        if ($keyId) { [GraphTests.KernelKeys]::Remove("keyring-rs:token-cache-key-$keyId@Microsoft.Graph.Beta.Users.Actions") | Out-Null }
    }

    function script:New-Folder {
        # A folder outside the data folder (for what a planted link points at).
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "graph-cache-elsewhere-$([guid]::NewGuid().ToString('n'))"
        $script:Folders.Add($dir)
        New-Item -ItemType Directory -Path $dir | Out-Null
        $dir
    }

    function script:Get-DeviceCodes {
        [int] (Invoke-MockControl $Mock GET token-stats).requests.devicecode
    }

    function script:Connect-User([string[]] $Scopes = @('User.RevokeSessions.All')) {
        Connect-MgGraph -Environment Mock -Scopes $Scopes -TenantId $TenantId -NoWelcome -InformationAction Ignore
    }

    function script:Invoke-Child {
        # Runs a script in a new pwsh (inheriting GRAPH_BETA_DATA_DIR) and returns its exit code and output.
        param([Parameter(Mandatory)] [string] $Body)
        $prelude = "`$ErrorActionPreference = 'Stop'; Import-Module '$Manifest'; Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null; `$TenantId = '$TenantId'; "
        $output = & pwsh -NoProfile -NonInteractive -Command ($prelude + $Body) 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
    }

    function script:Get-JournalSecrets {
        # Every token and code the module sent, as the mock saw them.
        $secrets = [System.Collections.Generic.List[string]]::new()
        foreach ($request in (Get-MockRequests $Mock | ForEach-Object { $_ })) {
            $authorization = $request.headers.authorization
            if ($authorization -match '^Bearer (.+)$') { $secrets.Add($Matches[1]) }
            if ($request.body -match '(?:refresh_token|device_code)=([^&]+)') { $secrets.Add([uri]::UnescapeDataString($Matches[1])) }
        }
        $secrets | Select-Object -Unique
    }
}

AfterAll {
    Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    Stop-GraphMock $script:Mock
    $env:GRAPH_BETA_DATA_DIR = $script:PreviousDataDir
    Remove-Item Env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE -ErrorAction SilentlyContinue
    foreach ($dir in $script:Folders) { Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Connect-MgGraph -ContextScope CurrentUser' -Tag CI {
    AfterEach {
        Remove-CacheKey $Dir
    }

    BeforeEach {
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 3599 } | Out-Null
        Invoke-MockControl $Mock DELETE token-stats | Out-Null
        Remove-Item Env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE -ErrorAction SilentlyContinue
        $script:Dir = New-DataDir
    }

    It 'is the default for delegated sign-in, and a second process signs in from it without a new device code' {
        Connect-User
        (Get-MgContext).ContextScope | Should -Be 'CurrentUser'
        Get-DeviceCodes | Should -Be 1
        $child = Invoke-Child @"
Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All -TenantId `$TenantId -NoWelcome
`$context = Get-MgContext
"`$(`$context.Account)|`$(`$context.ContextScope)|`$(Invoke-MgBetaInvalidateAllUserRefreshToken -UserId '$($User.Id)')"
"@
        $child.ExitCode | Should -Be 0 -Because $child.Output
        $child.Output.Trim() | Should -Be 'admin@contoso.com|CurrentUser|True'
        Get-DeviceCodes | Should -Be 1
    }

    It 'asks for a new device code when the saved sign-in does not cover the scopes' {
        Connect-User -Scopes User.RevokeSessions.All
        $child = Invoke-Child "Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All, Mail.Send -TenantId `$TenantId -NoWelcome -InformationAction Ignore; (Get-MgContext).Account"
        $child.ExitCode | Should -Be 0 -Because $child.Output
        Get-DeviceCodes | Should -Be 2
    }

    It 'keeps a folder it creates 0700 and the file 0600 even with umask 000' -Skip:(-not ($IsLinux -or $IsMacOS)) {
        # An existing folder named by GRAPH_BETA_DATA_DIR keeps its mode; one the module creates is owner-only.
        chmod 0755 $Dir
        $script:Dir = Join-Path $Dir 'created'
        $env:GRAPH_BETA_DATA_DIR = $Dir
        $child = & bash -c "umask 000 && pwsh -NoProfile -NonInteractive -Command `"Import-Module '$Manifest'; Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null; Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId '$TenantId' -NoWelcome -InformationAction Ignore`"" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($child | Out-String)
        (Get-Item $Dir).UnixMode | Should -Be 'drwx------'
        (Get-Item (Split-Path $Dir)).UnixMode | Should -Be 'drwxr-xr-x'
        (Get-Item (Join-Path $Dir 'token-cache.json')).UnixMode | Should -Be '-rw-------'
        (Get-Item (Join-Path $Dir 'token-cache.lock')).UnixMode | Should -Be '-rw-------'
    }

    It 'never shows a token, refresh token or device code in the file, any stream, error or -Debug trace' {
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 2 } | Out-Null
        Clear-MockRequests $Mock
        $file = Join-Path $Dir 'token-cache.json'
        $streams = [System.Collections.Generic.List[string]]::new()
        $snapshots = [System.Collections.Generic.List[byte[]]]::new()
        $streams.Add((Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All -TenantId $TenantId -Debug -Verbose *>&1 | Out-String))
        $snapshots.Add([System.IO.File]::ReadAllBytes($file))
        foreach ($round in 1..2) {
            Start-Sleep -Milliseconds 2100
            $streams.Add((Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -Debug -Verbose *>&1 | Out-String))
            $snapshots.Add([System.IO.File]::ReadAllBytes($file))
        }
        $streams.Add((Get-MgContext | Format-List * | Out-String))
        $streams.Add(($Error | Out-String))
        $content = $snapshots | ForEach-Object { [System.Text.Encoding]::UTF8.GetString($_) }
        $content[-1] | Should -Match '"protection": "aes-256-gcm"'
        $secrets = @(Get-JournalSecrets)
        $secrets.Count | Should -BeGreaterOrEqual 5 -Because 'the journal holds the device code, refresh tokens and access tokens'
        foreach ($secret in $secrets) {
            foreach ($text in @($content) + @($streams)) {
                $text.Contains($secret) | Should -BeFalse -Because 'no secret may be written anywhere'
            }
        }
        # Encrypted as a whole: not even the account shows ('@' is not a base64 character).
        foreach ($text in $content) { $text | Should -Not -Match 'admin@contoso\.com' }
    }

    It 'survives two processes hammering it at once: both entries stay valid, no write is lost' {
        $body = {
            param([string] $Scope)
            $results = foreach ($i in 0..10) {
                Connect-MgGraph -Environment Mock -Scopes $Scope -TenantId $TenantId -NoWelcome -InformationAction Ignore
                Invoke-MgBetaInvalidateAllUserRefreshToken -UserId 'USERID'
                if ($i % 3 -eq 2) { Disconnect-MgGraph | Out-Null }
            }
            "ok:$(@($results | Where-Object { $_ -eq $true }).Count)"
        }.ToString().Replace('USERID', $User.Id)
        # Short-lived tokens: every silent sign-in also redeems and rotates the refresh token.
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 60 } | Out-Null
        # Scope sets that do not cover each other, so each process keeps to its own entry.
        $processes = foreach ($scope in 'User.RevokeSessions.All,User.Read', 'User.RevokeSessions.All,Mail.Read') {
            $script = Join-Path $Dir "hammer-$($scope.Split(',')[1]).ps1"
            "`$ErrorActionPreference = 'Stop'; Import-Module '$Manifest'; Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null; `$TenantId = '$TenantId'; & { $body } '$scope'" | Set-Content $script
            $start = [System.Diagnostics.ProcessStartInfo]::new('pwsh')
            foreach ($argument in '-NoProfile', '-NonInteractive', '-File', $script) { $start.ArgumentList.Add($argument) }
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            [System.Diagnostics.Process]::Start($start)
        }
        foreach ($process in $processes) {
            $output = $process.StandardOutput.ReadToEnd() + $process.StandardError.ReadToEnd()
            $process.WaitForExit()
            $process.ExitCode | Should -Be 0 -Because $output
            $output.Trim() | Should -Be 'ok:11'
        }
        # One device code at each process's start and after each of its three sign-outs: a lost
        # write would have killed a rotated refresh token and forced another.
        Get-DeviceCodes | Should -Be 8
        @(Get-ChildItem $Dir -Filter '*.tmp').Count | Should -Be 0
        $child = Invoke-Child "foreach (`$s in 'User.RevokeSessions.All,User.Read', 'User.RevokeSessions.All,Mail.Read') { Connect-MgGraph -Environment Mock -Scopes `$s -TenantId `$TenantId -NoWelcome; (Get-MgContext).Scopes -join ',' }"
        $child.ExitCode | Should -Be 0 -Because $child.Output
        Get-DeviceCodes | Should -Be 8
    }

    It 'lets two processes renew the same saved sign-in at once without a new device code' {
        # Tokens living less than the five-minute margin: every silent sign-in renews, and both
        # processes redeem refresh tokens of the same entry, which the mock kills once redeemed.
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 20 } | Out-Null
        Connect-User -Scopes User.RevokeSessions.All
        Invoke-MockControl $Mock DELETE token-stats | Out-Null
        $body = "foreach (`$i in 1..8) { Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All -TenantId `$TenantId -NoWelcome -InformationAction Ignore; if (-not (Invoke-MgBetaInvalidateAllUserRefreshToken -UserId '$($User.Id)')) { throw 'revocation failed' } }; 'done'"
        $processes = foreach ($n in 1..2) {
            $script = Join-Path $Dir "shared-$n.ps1"
            "`$ErrorActionPreference = 'Stop'; Import-Module '$Manifest'; Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null; `$TenantId = '$TenantId'; $body" | Set-Content $script
            $start = [System.Diagnostics.ProcessStartInfo]::new('pwsh')
            foreach ($argument in '-NoProfile', '-NonInteractive', '-File', $script) { $start.ArgumentList.Add($argument) }
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            [System.Diagnostics.Process]::Start($start)
        }
        foreach ($process in $processes) {
            $output = $process.StandardOutput.ReadToEnd() + $process.StandardError.ReadToEnd()
            $process.WaitForExit()
            $process.ExitCode | Should -Be 0 -Because $output
            $output.Trim() | Should -Be 'done'
        }
        Get-DeviceCodes | Should -Be 0
        [int] (Invoke-MockControl $Mock GET token-stats).requests.refresh_token | Should -BeGreaterOrEqual 2
    }

    It 'drops a revoked refresh token from the file and says to sign in again' {
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 1 } | Out-Null
        Connect-User
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeTrue
        Invoke-MockControl $Mock POST refresh-tokens/revoke @{} | Out-Null
        Start-Sleep -Milliseconds 1100
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -ErrorAction SilentlyContinue -ErrorVariable failures | Should -BeNullOrEmpty
        $failures[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failures[0].Exception.Message | Should -Match 'AADSTS50173.*Sign in again with Connect-MgGraph'
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeFalse
    }

    It 'removes the context''s entry on Disconnect-MgGraph, and keeps the others' {
        Connect-User -Scopes User.Read
        Connect-User -Scopes User.RevokeSessions.All
        Disconnect-MgGraph | Out-Null
        Invoke-MockControl $Mock DELETE token-stats | Out-Null
        $child = Invoke-Child "Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId `$TenantId -NoWelcome -InformationAction Ignore; Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All -TenantId `$TenantId -NoWelcome -InformationAction Ignore"
        $child.ExitCode | Should -Be 0 -Because $child.Output
        Get-DeviceCodes | Should -Be 1 -Because 'only the disconnected context needs a new sign-in'
    }

    It 'warns on Disconnect-MgGraph when the saved sign-in cannot be removed, naming the file, and disconnects anyway' {
        Connect-User -Scopes User.Read
        # A folder where the cache's lock file goes: the cache cannot be locked, so not changed.
        $lock = Join-Path $Dir 'token-cache.lock'
        Remove-Item $lock -Force
        New-Item -ItemType Directory $lock | Out-Null
        try {
            $warnings = @(Disconnect-MgGraph 3>&1 | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
        } finally {
            Remove-Item $lock -Force
        }
        $warnings.Count | Should -Be 1
        $warnings[0].Message | Should -Match 'could not be removed from the token cache'
        $warnings[0].Message | Should -BeLike "*$(Join-Path $Dir 'token-cache.json')*"
        Get-MgContext | Should -BeNullOrEmpty
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeTrue
    }

    It 'treats a damaged file as empty, says so with -Verbose, and replaces it' {
        Set-Content (Join-Path $Dir 'token-cache.json') '{ this is not json'
        $verbose = Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId $TenantId -NoWelcome -Verbose -InformationAction Ignore 4>&1
        ($verbose | Out-String) | Should -Match 'treated as empty'
        (Get-MgContext).Account | Should -Be 'admin@contoso.com'
        Get-Content (Join-Path $Dir 'token-cache.json') -Raw | Should -Match '"version": 1'
    }

    It 'warns once, and keeps the file owner-only, where no key store is used' {
        $env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE = 'none'
        $warnings = @(Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId $TenantId -NoWelcome 3>&1 |
                Where-Object { $_ -is [System.Management.Automation.WarningRecord] -and $_.Message -match 'token cache' })
        $warnings.Count | Should -Be 1
        $warnings[0].Message | Should -Match 'not encrypted.*protected only by its file permissions'
        if ($IsLinux -or $IsMacOS) { (Get-Item (Join-Path $Dir 'token-cache.json')).UnixMode | Should -Be '-rw-------' }
    }

    It 'keeps nothing when the sign-in fails' {
        Invoke-MockControl $Mock POST devicecode @{ interval = 0; outcome = 'decline' } | Out-Null
        try {
            { Connect-User } | Should -Throw '*declined*'
        }
        finally {
            Invoke-MockControl $Mock POST devicecode @{ interval = 0 } | Out-Null
        }
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeFalse
    }

    It 'refuses an unknown tenant naming AADSTS90002, and keeps no context and nothing on disk' {
        $failure = { Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId 'nowhere.example' -NoWelcome } |
            Should -Throw -ErrorId 'DeviceCodeSignInFailed,*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failure.Exception.Message | Should -BeLike '*AADSTS90002*check -TenantId*'
        Get-MgContext | Should -BeNullOrEmpty
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeFalse
    }

    It 'reports an unreachable authority naming it, and keeps no context and nothing on disk' {
        Add-MgEnvironment -Name Unreachable -GraphEndpoint 'http://127.0.0.1:9' -AzureADEndpoint 'http://127.0.0.1:9' | Out-Null
        $failure = { Connect-MgGraph -Environment Unreachable -Scopes User.Read -NoWelcome } |
            Should -Throw -ErrorId 'AuthorityUnreachable,*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'ConnectionError'
        $failure.Exception.Message | Should -BeLike '*http://127.0.0.1:9/common/oauth2/v2.0/devicecode*'
        Get-MgContext | Should -BeNullOrEmpty
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeFalse
        Remove-MgEnvironment -Name Unreachable
    }

    It 'keeps -ContextScope Process sign-ins out of the file' {
        Connect-MgGraph -Environment Mock -Scopes User.Read -TenantId $TenantId -ContextScope Process -NoWelcome -InformationAction Ignore
        (Get-MgContext).ContextScope | Should -Be 'Process'
        Test-Path (Join-Path $Dir 'token-cache.json') | Should -BeFalse
    }
}

# Issue 11, points 7 and 8: someone else could write in the data folder, or planted files and
# links in it. The cache must trust only what it wrote, never follow a link, and tell the truth.
Describe 'The token cache on a hostile file system' -Tag CI -Skip:(-not ($IsLinux -or $IsMacOS)) {
    AfterEach {
        Remove-CacheKey $Dir
    }

    BeforeEach {
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = 3599 } | Out-Null
        Invoke-MockControl $Mock DELETE token-stats | Out-Null
        Remove-Item Env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE -ErrorAction SilentlyContinue
        $script:Dir = New-DataDir
        $script:SignIn = "Connect-MgGraph -Environment Mock -Scopes User.RevokeSessions.All -TenantId `$TenantId -NoWelcome -InformationAction Ignore; 'account:' + (Get-MgContext).Account"
    }

    It 'does not use a world-writable plaintext file found while the key store works, says so truthfully, and saves an encrypted owner-only one' {
        # A valid sign-in saved unencrypted (as with the key store off), then opened to everyone:
        # what someone planting their own tokens would leave.
        $planted = Invoke-Child "`$env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE = 'none'; $SignIn"
        $planted.ExitCode | Should -Be 0 -Because $planted.Output
        $file = Join-Path $Dir 'token-cache.json'
        Get-Content $file -Raw | Should -Match '"protection": "none"'
        chmod 0666 $file
        Invoke-MockControl $Mock DELETE token-stats | Out-Null

        $child = Invoke-Child $SignIn
        $child.ExitCode | Should -Be 0 -Because $child.Output
        $child.Output | Should -Match 'account:admin@contoso.com'
        Get-DeviceCodes | Should -Be 1 -Because 'the planted sign-in must not be used'
        $child.Output | Should -Match "WARNING: the token cache '$([regex]::Escape($file))' could be written by other users \(mode 0666\).*so it was not used and has been removed"
        $child.Output | Should -Not -Match 'protected only by its file permissions'
        Get-Content $file -Raw | Should -Match '"protection": "aes-256-gcm"'
        (Get-Item $file).UnixMode | Should -Be '-rw-------'
    }

    It 'makes a data folder others can write owner-only, and says so' {
        chmod 0777 $Dir
        $child = Invoke-Child $SignIn
        $child.ExitCode | Should -Be 0 -Because $child.Output
        (Get-Item $Dir).UnixMode | Should -Be 'drwx------'
        $child.Output | Should -Match "WARNING: the data folder '$([regex]::Escape($Dir))' could be written by other users \(mode 0777\)"
        Get-Content (Join-Path $Dir 'token-cache.json') -Raw | Should -Match '"protection": "aes-256-gcm"'
    }

    It 'refuses a data folder of another user, naming it, and keeps the sign-in in the process' -Skip:(-not $IsLinux -or (id -u) -ne '0') {
        chown 65534:65534 $Dir
        chmod 0777 $Dir
        $child = Invoke-Child $SignIn
        $child.ExitCode | Should -Be 0 -Because $child.Output
        $child.Output | Should -Match 'account:admin@contoso.com'
        $child.Output | Should -Match "WARNING: the token cache cannot be used.*the data folder '$([regex]::Escape($Dir))' belongs to another user \(uid 65534\)"
        @(Get-ChildItem $Dir -Force).Count | Should -Be 0 -Because 'nothing is written into another user''s folder'
        (Get-Item $Dir).UnixMode | Should -Be 'drwxrwxrwx'
    }

    It 'never follows a lock file linked to another file: that file keeps its mode and content' {
        $victim = Join-Path (New-Folder) 'victim.txt'
        Set-Content $victim 'precious' -NoNewline
        chmod 0644 $victim
        ln -s $victim (Join-Path $Dir 'token-cache.lock')
        $child = Invoke-Child $SignIn
        $child.ExitCode | Should -Be 0 -Because $child.Output
        (Get-Item $victim).UnixMode | Should -Be '-rw-r--r--'
        Get-Content $victim -Raw | Should -Be 'precious'
        $child.Output | Should -Match 'account:admin@contoso.com'
        $child.Output | Should -Match "WARNING: the token cache cannot be used.*token-cache\.lock' is a symbolic link"
    }

    It 'never reads a cache file linked to another cache: the link is replaced, the other file left alone' {
        # The link points at a valid plaintext cache elsewhere (an attacker's tokens).
        $elsewhere = New-Folder
        $planted = Invoke-Child "`$env:GRAPH_BETA_DATA_DIR = '$elsewhere'; `$env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE = 'none'; $SignIn"
        $planted.ExitCode | Should -Be 0 -Because $planted.Output
        $target = Join-Path $elsewhere 'token-cache.json'
        chmod 0644 $target
        $before = Get-Content $target -Raw
        $link = Join-Path $Dir 'token-cache.json'
        ln -s $target $link
        Invoke-MockControl $Mock DELETE token-stats | Out-Null

        $child = Invoke-Child "`$env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE = 'none'; $SignIn"
        $child.ExitCode | Should -Be 0 -Because $child.Output
        Get-DeviceCodes | Should -Be 1 -Because 'the linked sign-in must not be used'
        $child.Output | Should -Match "WARNING: the token cache '$([regex]::Escape($link))' is a symbolic link"
        (Get-Item $link).LinkType | Should -BeNullOrEmpty
        (Get-Item $link).UnixMode | Should -Be '-rw-------'
        Get-Content $target -Raw | Should -Be $before
        (Get-Item $target).UnixMode | Should -Be '-rw-r--r--'
    }
}
