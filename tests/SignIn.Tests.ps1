# App-only sign-in (client secret, certificate, environment variables) against the mock Entra ID
# and Graph over real loopback HTTP: each way ends with a working revocation, tokens are renewed
# silently (counted on the server), and bad input gives an error naming its cause.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $script:Mock = Start-GraphMock
    Add-MgEnvironment -Name Mock -GraphEndpoint $Mock.BaseUrl -AzureADEndpoint $Mock.BaseUrl | Out-Null
    $script:TenantId = [guid]::NewGuid().ToString()
    $script:User = Add-MockUser $Mock 'adele@contoso.com'
    $script:SecretValue = 'Zx8~q' + [guid]::NewGuid().ToString('n')
    $script:SecretApp = [guid]::NewGuid().ToString()
    Invoke-MockControl $Mock POST apps @{ appId = $SecretApp; tenantId = $TenantId; secrets = @($SecretValue); roles = @('User.RevokeSessions.All') } | Out-Null

    function script:New-SecretCredential([string] $AppId = $SecretApp, [string] $Secret = $SecretValue) {
        [pscredential]::new($AppId, (ConvertTo-SecureString $Secret -AsPlainText -Force))
    }

    function script:Get-ClientCredentialRequests {
        $stats = Invoke-MockControl $Mock GET token-stats
        [int] ($stats.requests.client_credentials)
    }

    function script:Set-TokenLifetime([int] $Seconds) {
        Invoke-MockControl $Mock PUT entra @{ accessTokenLifetimeSeconds = $Seconds } | Out-Null
    }

    function script:Get-LastAssertionHeader {
        # The journal may come back as one array object: flatten it first.
        $request = Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object { $_.rawPath -like '*/oauth2/v2.0/token' } | Select-Object -Last 1
        $assertion = ($request.body -split '&' | Where-Object { $_ -like 'client_assertion=*' }) -replace '^client_assertion=', ''
        $header = [uri]::UnescapeDataString($assertion).Split('.')[0].Replace('-', '+').Replace('_', '/')
        $header += '=' * ((4 - $header.Length % 4) % 4)
        [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($header)) | ConvertFrom-Json -AsHashtable
    }

    function script:New-TestCertificate([string] $Subject = 'CN=graph-signin-tests', [int] $NotBeforeDays = -1, [int] $NotAfterDays = 30) {
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            $Subject, $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $request.CreateSelfSigned([DateTimeOffset]::Now.AddDays($NotBeforeDays), [DateTimeOffset]::Now.AddDays($NotAfterDays))
    }

    function script:Register-CertificateApp([System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate) {
        $appId = [guid]::NewGuid().ToString()
        Invoke-MockControl $Mock POST apps @{
            appId = $appId; tenantId = $TenantId; roles = @('User.RevokeSessions.All')
            certificates = @([Convert]::ToBase64String($Certificate.RawData))
        } | Out-Null
        $appId
    }
}

AfterAll {
    Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
    Stop-GraphMock $script:Mock
}

Describe 'Connect-MgGraph -ClientSecretCredential' -Tag CI {
    BeforeEach {
        Set-TokenLifetime 3599
        Invoke-MockControl $Mock DELETE token-stats | Out-Null
        Invoke-MockControl $Mock DELETE faults | Out-Null
    }

    It 'signs in app-only, shows the app in Get-MgContext and revokes with one token request' {
        Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential) -TenantId $TenantId -NoWelcome
        $context = Get-MgContext
        $context.AuthType | Should -Be 'AppOnly'
        $context.TokenCredentialType | Should -Be 'ClientSecret'
        $context.ClientId | Should -Be $SecretApp
        $context.TenantId | Should -Be $TenantId
        $context.Scopes | Should -Contain 'User.RevokeSessions.All'
        $context.ContextScope | Should -Be 'Process'
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.UserPrincipalName | Should -BeTrue
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
        Get-ClientCredentialRequests | Should -Be 1
    }

    It 'renews a token that expires mid-script without the user noticing' {
        Set-TokenLifetime 2
        Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential) -TenantId $TenantId -NoWelcome
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
        Start-Sleep -Milliseconds 2300
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -ErrorAction Stop | Should -BeTrue
        Get-ClientCredentialRequests | Should -Be 2
        (Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object { $_.rawPath -like '*invalidateAllRefreshTokens' -and $_.status -eq 401 }) | Should -BeNullOrEmpty
    }

    It 'retries once with a new token when Graph answers 401, and not twice' {
        Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential) -TenantId $TenantId -NoWelcome
        Invoke-MockControl $Mock POST faults @{ match = @{ pathContains = 'invalidateAllRefreshTokens' }; status = 401 } | Out-Null
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -ErrorAction Stop | Should -BeTrue
        Get-ClientCredentialRequests | Should -Be 2

        Invoke-MockControl $Mock POST faults @{ match = @{ pathContains = 'invalidateAllRefreshTokens' }; status = 401; times = 2 } | Out-Null
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -ErrorAction SilentlyContinue -ErrorVariable failures | Out-Null
        $failures.Count | Should -Be 1
        $failures[0].Exception.StatusCode | Should -Be 401
        Get-ClientCredentialRequests | Should -Be 3
    }

    It 'refuses a wrong secret naming AADSTS7000215, and keeps no context' {
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
        $failure = { Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential -Secret 'not-the-secret') -TenantId $TenantId -NoWelcome } |
            Should -Throw -ErrorId 'AuthenticationFailed,*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $failure.Exception.Message | Should -BeLike '*AADSTS7000215*client secret*'
        $failure.Exception.Message | Should -Not -BeLike '*not-the-secret*'
        $failure.Exception.Code | Should -Be 'AADSTS7000215'
        $failure.Exception.StatusCode | Should -Be 401
        Get-MgContext | Should -BeNullOrEmpty
    }

    It 'refuses an unknown tenant naming AADSTS90002' {
        { Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential) -TenantId 'nowhere.example' -NoWelcome } |
            Should -Throw -ErrorId 'AuthenticationFailed,*' -ExpectedMessage '*AADSTS90002*'
    }

    It 'refuses an unknown app naming AADSTS700016' {
        { Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential -AppId ([guid]::NewGuid())) -TenantId $TenantId -NoWelcome } |
            Should -Throw -ExpectedMessage '*AADSTS700016*'
    }

    It 'refuses a tenant id that is not one path segment before sending anything' {
        Clear-MockRequests $Mock
        { Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential) -TenantId '../common' -NoWelcome } |
            Should -Throw -ErrorId 'InvalidArgument,*' -ExpectedMessage '*tenant*'
        Get-MockRequests $Mock | Should -BeNullOrEmpty
    }

    It 'reports an unreachable authority as a connection error naming it' {
        Add-MgEnvironment -Name Unreachable -GraphEndpoint 'http://127.0.0.1:9' -AzureADEndpoint 'http://127.0.0.1:9' | Out-Null
        $failure = { Connect-MgGraph -Environment Unreachable -ClientSecretCredential (New-SecretCredential) -TenantId $TenantId -NoWelcome } |
            Should -Throw -ErrorId 'AuthorityUnreachable,*' -PassThru
        $failure.CategoryInfo.Category | Should -Be 'ConnectionError'
        $failure.Exception.Message | Should -BeLike '*http://127.0.0.1:9/*'
    }

    It 'never writes the secret or a token to any stream, including -Debug and -Verbose' {
        $output = & {
            Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential) -TenantId $TenantId -Debug -Verbose
            Get-MgContext | Format-List * | Out-String
            Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id -Debug -Verbose
            try { Connect-MgGraph -Environment Mock -ClientSecretCredential (New-SecretCredential -Secret 'wrong-secret-value') -TenantId $TenantId -Debug -Verbose }
            catch { $_ | Format-List * -Force | Out-String; $_.Exception | Format-List * -Force | Out-String }
        } *>&1 | Out-String
        $output | Should -Match 'AADSTS7000215'
        $output | Should -Not -BeNullOrEmpty
        $output | Should -Not -Match ([regex]::Escape($SecretValue))
        $output | Should -Not -Match 'wrong-secret-value'
        $output | Should -Not -Match 'eyJ[\w-]+\.eyJ[\w-]+\.'
    }
}

Describe 'Connect-MgGraph with a certificate' -Tag CI {
    BeforeAll {
        $script:Certificate = New-TestCertificate
        $script:CertificateApp = Register-CertificateApp $Certificate
        $script:StoredSubject = "CN=graph-signin-store-$([guid]::NewGuid().ToString('n'))"
        $script:StoreCertificates = @()
        # Three certificates with one subject in the CurrentUser My store: an expired one, an older
        # valid one and the newest valid one; only the newest is registered on the app.
        $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
        $store.Open('ReadWrite')
        try {
            foreach ($dates in @(@(-30, -1), @(-20, 30), @(-2, 30))) {
                $made = New-TestCertificate -Subject $StoredSubject -NotBeforeDays $dates[0] -NotAfterDays $dates[1]
                $persisted = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new(
                    $made.Export('Pfx'), [string] $null, 'Exportable, PersistKeySet, UserKeySet')
                $store.Add($persisted)
                $script:StoreCertificates += $persisted
            }
        }
        finally { $store.Close() }
        $script:NewestStored = $StoreCertificates[2]
        $script:StoredApp = Register-CertificateApp $NewestStored
    }

    AfterAll {
        $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
        $store.Open('ReadWrite')
        try { foreach ($certificate in $StoreCertificates) { $store.Remove($certificate) } } finally { $store.Close() }
    }

    It 'signs in with -Certificate, a PS256 assertion naming it by x5t#S256, and revokes' {
        Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -Certificate $Certificate -NoWelcome
        $context = Get-MgContext
        $context.AuthType | Should -Be 'AppOnly'
        $context.TokenCredentialType | Should -Be 'ClientCertificate'
        $context.CertificateThumbprint | Should -Be $Certificate.Thumbprint
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
        $header = Get-LastAssertionHeader
        $header.alg | Should -Be 'PS256'
        $sha256 = [System.Security.Cryptography.SHA256]::HashData($Certificate.RawData)
        $header['x5t#S256'] | Should -Be ([Convert]::ToBase64String($sha256).TrimEnd('=').Replace('+', '-').Replace('/', '_'))
        $header.ContainsKey('x5c') | Should -BeFalse
    }

    It 'sends the chain in x5c with -SendCertificateChain' {
        Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -Certificate $Certificate -SendCertificateChain -NoWelcome
        $header = Get-LastAssertionHeader
        @($header.x5c)[0] | Should -Be ([Convert]::ToBase64String($Certificate.RawData))
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
    }

    It 'finds -CertificateThumbprint in the CurrentUser My store' {
        Connect-MgGraph -Environment Mock -ClientId $StoredApp -TenantId $TenantId -CertificateThumbprint $NewestStored.Thumbprint.ToLowerInvariant() -NoWelcome
        (Get-MgContext).CertificateThumbprint | Should -Be $NewestStored.Thumbprint
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
    }

    It 'picks the newest unexpired certificate for -CertificateSubjectName' {
        Connect-MgGraph -Environment Mock -ClientId $StoredApp -TenantId $TenantId -CertificateSubjectName $StoredSubject -NoWelcome
        (Get-MgContext).CertificateThumbprint | Should -Be $NewestStored.Thumbprint
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
    }

    It 'refuses an expired certificate before sending anything' {
        Clear-MockRequests $Mock
        $expired = New-TestCertificate -NotBeforeDays -30 -NotAfterDays -1
        { Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -Certificate $expired -NoWelcome } |
            Should -Throw -ErrorId 'CertificateExpired,*' -ExpectedMessage '*expired*'
        { Connect-MgGraph -Environment Mock -ClientId $StoredApp -TenantId $TenantId -CertificateThumbprint $StoreCertificates[0].Thumbprint -NoWelcome } |
            Should -Throw -ErrorId 'CertificateExpired,*'
        Get-MockRequests $Mock | Should -BeNullOrEmpty
    }

    It 'refuses a certificate without a private key' {
        $publicOnly = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($Certificate.RawData)
        { Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -Certificate $publicOnly -NoWelcome } |
            Should -Throw -ErrorId 'CertificateWithoutPrivateKey,*' -ExpectedMessage '*private key*'
    }

    It 'refuses a thumbprint of the wrong length, and says what a thumbprint looks like' {
        { Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -CertificateThumbprint 'ABC123' -NoWelcome } |
            Should -Throw -ErrorId 'InvalidCertificateThumbprint,*' -ExpectedMessage '*40 hexadecimal*'
    }

    It 'says when no certificate has the thumbprint' {
        { Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -CertificateThumbprint ('AB' * 20) -NoWelcome } |
            Should -Throw -ErrorId 'CertificateNotFound,*' -ExpectedMessage '*CurrentUser or LocalMachine*'
    }

    It 'names AADSTS700027 when the certificate is not the app''s' {
        $other = New-TestCertificate
        { Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -Certificate $other -NoWelcome } |
            Should -Throw -ErrorId 'AuthenticationFailed,*' -ExpectedMessage '*AADSTS700027*'
    }

    It 'asks for exactly one way to name the certificate' {
        # -ClientId and -TenantId alone are a delegated sign-in (as in the official module), so
        # naming the certificate twice is what reaches this check.
        { Connect-MgGraph -Environment Mock -ClientId $CertificateApp -TenantId $TenantId -CertificateThumbprint ('A' * 40) -CertificateSubjectName 'CN=x' -NoWelcome } |
            Should -Throw -ErrorId 'CertificateParameterMissing,*'
    }
}

Describe 'Connect-MgGraph -EnvironmentVariable' -Tag CI {
    BeforeEach {
        $script:Saved = @{}
        foreach ($name in 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_CLIENT_CERTIFICATE_PASSWORD') {
            $Saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $null)
        }
    }

    AfterEach {
        foreach ($name in $Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $Saved[$name]) }
    }

    It 'signs in with AZURE_CLIENT_SECRET' {
        $env:AZURE_CLIENT_ID = $SecretApp; $env:AZURE_TENANT_ID = $TenantId; $env:AZURE_CLIENT_SECRET = $SecretValue
        Connect-MgGraph -Environment Mock -EnvironmentVariable -NoWelcome
        (Get-MgContext).TokenCredentialType | Should -Be 'ClientSecret'
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
    }

    It 'signs in with AZURE_CLIENT_CERTIFICATE_PATH (PEM with its key)' {
        $rsa = [System.Security.Cryptography.RSA]::Create(2048)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            'CN=graph-env-cert', $rsa, [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $certificate = $request.CreateSelfSigned([DateTimeOffset]::Now.AddDays(-1), [DateTimeOffset]::Now.AddDays(30))
        $appId = Register-CertificateApp $certificate
        $path = Join-Path $TestDrive 'app.pem'
        $certificate.ExportCertificatePem() + "`n" + $rsa.ExportPkcs8PrivateKeyPem() | Set-Content $path
        $env:AZURE_CLIENT_ID = $appId; $env:AZURE_TENANT_ID = $TenantId; $env:AZURE_CLIENT_CERTIFICATE_PATH = $path
        Connect-MgGraph -Environment Mock -EnvironmentVariable -NoWelcome
        (Get-MgContext).CertificateThumbprint | Should -Be $certificate.Thumbprint
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
    }

    It 'names the variables that are missing' {
        $env:AZURE_CLIENT_ID = $SecretApp
        { Connect-MgGraph -Environment Mock -EnvironmentVariable -NoWelcome } |
            Should -Throw -ErrorId 'EnvironmentVariableMissing,*' -ExpectedMessage '*AZURE_TENANT_ID*AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH*'
    }
}

Describe 'Connect-MgGraph -Identity' -Tag CI {
    BeforeAll {
        $script:SystemIdentity = [guid]::NewGuid().ToString()
        $script:UserIdentity = [guid]::NewGuid().ToString()
        Invoke-MockControl $Mock POST managed-identities @{ identities = @(
                @{ clientId = $SystemIdentity; systemAssigned = $true; roles = @('User.RevokeSessions.All') },
                @{ clientId = $UserIdentity; roles = @('User.RevokeSessions.All') }
            ) } | Out-Null
        $script:IdentityVariables = 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'AZURE_POD_IDENTITY_AUTHORITY_HOST', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'
    }

    BeforeEach {
        $script:Saved = @{}
        foreach ($name in $IdentityVariables) {
            $Saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $null)
        }
        Invoke-MockControl $Mock DELETE faults | Out-Null
        Clear-MockRequests $Mock
    }

    AfterEach {
        foreach ($name in $Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $Saved[$name]) }
    }

    It 'signs in through IMDS with the system-assigned identity and revokes' {
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = $Mock.BaseUrl
        Connect-MgGraph -Environment Mock -Identity -NoWelcome
        $context = Get-MgContext
        $context.AuthType | Should -Be 'ManagedIdentity'
        $context.TokenCredentialType | Should -Be 'ManagedIdentity'
        $context.ClientId | Should -Be $SystemIdentity
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
        $request = Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object rawPath -EQ '/metadata/identity/oauth2/token'
        $request.headers.metadata | Should -Be 'true'
    }

    It 'signs in through App Service with a user-assigned identity named by -ClientId' {
        $env:IDENTITY_ENDPOINT = "$($Mock.BaseUrl)/msi/token"
        $env:IDENTITY_HEADER = 'graph-mock-identity-header'
        Connect-MgGraph -Environment Mock -Identity -ClientId $UserIdentity -NoWelcome
        $context = Get-MgContext
        $context.ClientId | Should -Be $UserIdentity
        $context.ManagedIdentityId | Should -Be $UserIdentity
        Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $User.Id | Should -BeTrue
        (Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object rawPath -EQ '/msi/token').headers.'x-identity-header' | Should -Be 'graph-mock-identity-header'
    }

    It 'retries a 503 from the endpoint and then succeeds' {
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = $Mock.BaseUrl
        Invoke-MockControl $Mock POST faults @{ match = @{ pathContains = '/metadata/identity' }; status = 503 } | Out-Null
        Connect-MgGraph -Environment Mock -Identity -NoWelcome
        @(Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object rawPath -EQ '/metadata/identity/oauth2/token').Count | Should -Be 2
    }

    It 'never goes through the proxy, even when one is configured' {
        # A child process, so the proxy variables are in its native environment from the start
        # (the engine reads the system proxy there); the same child shows the proxy is in force
        # for Graph calls, which therefore fail, while the managed identity request does not use it.
        $manifest = Get-ModuleManifestPath
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$manifest'
Add-MgEnvironment -Name Mock -GraphEndpoint '$($Mock.BaseUrl)' -AzureADEndpoint '$($Mock.BaseUrl)' | Out-Null
Connect-MgGraph -Environment Mock -Identity -NoWelcome
'client:' + (Get-MgContext).ClientId
try { Invoke-MgBetaInvalidateAllUserRefreshToken -UserId '$($User.Id)' -ErrorAction Stop | Out-Null; 'graph:direct' } catch { 'graph:' + `$_.FullyQualifiedErrorId }
"@
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = $Mock.BaseUrl
        $env:HTTP_PROXY = 'http://127.0.0.1:9'; $env:HTTPS_PROXY = 'http://127.0.0.1:9'; $env:NO_PROXY = ''
        $output = pwsh -NoProfile -NonInteractive -Command $script 2>&1
        $output | Should -Contain "client:$SystemIdentity"
        $output | Should -Contain 'graph:GraphUnreachable,Microsoft.Graph.Beta.PowerShell.Cmdlets.InvokeMgBetaInvalidateAllUserRefreshToken'
    }

    It 'stops waiting for the endpoint on Ctrl+C (pipeline stop)' {
        # Every answer is 503: the module would retry for 30 seconds; stopping the pipeline, as
        # Ctrl+C does, ends it at once and keeps no context.
        Disconnect-MgGraph -ErrorAction SilentlyContinue | Out-Null
        Invoke-MockControl $Mock POST faults @{ match = @{ pathContains = '/metadata/identity' }; status = 503; times = 10 } | Out-Null
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = $Mock.BaseUrl
        $powershell = [powershell]::Create()
        $null = $powershell.AddScript("Import-Module '$(Get-ModuleManifestPath)'; Connect-MgGraph -Environment Mock -Identity -NoWelcome")
        $pending = $powershell.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not (Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object rawPath -EQ '/metadata/identity/oauth2/token') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $powershell.Stop()
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
        $pending.IsCompleted | Should -BeTrue
        $powershell.InvocationStateInfo.State | Should -Be 'Stopped'
        $powershell.Dispose()
        Get-MgContext | Should -BeNullOrEmpty
        @(Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object rawPath -EQ '/metadata/identity/oauth2/token').Count | Should -BeLessThan 3
    }

    It 'says which identity is unknown instead of retrying it' {
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = $Mock.BaseUrl
        $unknown = [guid]::NewGuid().ToString()
        $failure = { Connect-MgGraph -Environment Mock -Identity -ClientId $unknown -NoWelcome } |
            Should -Throw -ErrorId 'AuthenticationFailed,*' -PassThru
        $failure.Exception.Message | Should -BeLike '*-ClientId*'
        @(Get-MockRequests $Mock | ForEach-Object { $_ } | Where-Object rawPath -EQ '/metadata/identity/oauth2/token').Count | Should -Be 1
    }

    It 'fails fast with a clear error where no managed identity endpoint exists' {
        $env:AZURE_POD_IDENTITY_AUTHORITY_HOST = 'http://127.0.0.1:9'
        $failure = { Connect-MgGraph -Environment Mock -Identity -NoWelcome } |
            Should -Throw -ErrorId 'ManagedIdentityUnavailable,*' -PassThru
        $failure.Exception.Message | Should -BeLike '*managed identity*127.0.0.1:9*'
    }
}
