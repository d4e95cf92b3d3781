# Helpers shared by the Pester suites: start the bundled mock Graph server, talk to its
# control API, and connect the module to it. Paths come from build.ps1 -Test through
# environment variables, with defaults for running a suite by hand after ./build.ps1.

$script:RepoRoot = Split-Path $PSScriptRoot -Parent

# Add-MgEnvironment and delegated sign-in save to the module's data folder; a suite run by hand
# must not write into the real user's one.
if (-not $env:GRAPH_BETA_DATA_DIR) {
    $env:GRAPH_BETA_DATA_DIR = Join-Path ([System.IO.Path]::GetTempPath()) "graph-beta-tests-$([guid]::NewGuid().ToString('n'))"
}

function Get-ModuleManifestPath {
    if ($env:GRAPH_MODULE_MANIFEST) { return $env:GRAPH_MODULE_MANIFEST }
    $manifest = Get-ChildItem (Join-Path $script:RepoRoot 'out/Microsoft.Graph.Beta.Users.Actions') -Filter '*.psd1' -Recurse |
        Select-Object -First 1
    if (-not $manifest) { throw 'The module is not built: run ./build.ps1 first.' }
    $manifest.FullName
}

function Get-NativeLibraryTable {
    # The six platforms the module ships and the file name Rust gives the library on each: what
    # the resolver's table and build.ps1's are tested against.
    [ordered]@{
        'linux-x64'   = 'libgraph_ffi.so'
        'linux-arm64' = 'libgraph_ffi.so'
        'osx-x64'     = 'libgraph_ffi.dylib'
        'osx-arm64'   = 'libgraph_ffi.dylib'
        'win-x64'     = 'graph_ffi.dll'
        'win-arm64'   = 'graph_ffi.dll'
    }
}

function Get-CurrentRuntimeIdentifier {
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    "$os-$([System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString().ToLowerInvariant())"
}

function Start-GraphMock {
    # Starts graph-mock on a free loopback port; it exits by itself when this process ends
    # (its stdin closes), so a crashed test run leaves nothing behind.
    $path = if ($env:GRAPH_MOCK_PATH) { $env:GRAPH_MOCK_PATH } else { Join-Path $script:RepoRoot 'target/release/graph-mock' }
    if (-not (Test-Path $path)) { throw "graph-mock not found at '$path': run ./build.ps1 first." }
    $start = [System.Diagnostics.ProcessStartInfo]::new($path)
    $start.ArgumentList.Add('--port'); $start.ArgumentList.Add('0'); $start.ArgumentList.Add('--exit-with-stdin')
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardInput = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch '^listening on (http://127\.0\.0\.1:\d+)$') {
        $process.Kill()
        throw "graph-mock did not start: '$line'"
    }
    [pscustomobject]@{ Process = $process; BaseUrl = $Matches[1] }
}

function Stop-GraphMock {
    param([Parameter(Mandatory)] $Mock)
    if (-not $Mock.Process.HasExited) {
        $Mock.Process.StandardInput.Close()
        if (-not $Mock.Process.WaitForExit(5000)) { $Mock.Process.Kill() }
    }
}

function Start-HostileServer {
    # Starts hostile-server (a loopback server that lies like a hostile Graph or Entra ID would)
    # on -Address (127.0.0.2 is a second host on this machine); it exits when this process ends.
    param([string] $Address = '127.0.0.1')
    $folder = if ($env:GRAPH_MOCK_PATH) { Split-Path $env:GRAPH_MOCK_PATH -Parent } else { Join-Path $script:RepoRoot 'target/release' }
    $path = Join-Path $folder "hostile-server$(if ($IsWindows) { '.exe' })"
    if (-not (Test-Path $path)) { throw "hostile-server not found at '$path': run ./build.ps1 first." }
    $start = [System.Diagnostics.ProcessStartInfo]::new($path)
    foreach ($argument in '--bind', $Address) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardInput = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch '^listening on (http://[\d.]+:\d+)$') {
        $process.Kill()
        throw "hostile-server did not start: '$line'"
    }
    [pscustomobject]@{ Process = $process; Url = $Matches[1] }
}

function Stop-HostileServer {
    param([Parameter(Mandatory)] $Server)
    Stop-GraphMock -Mock $Server
}

function Set-HostileAct {
    # Queues acts: @{ kind = 'redirect'; status = 307; location = '...' }, @{ kind = 'answer';
    # status = 200; headers = @{ 'content-type' = 'text/html' }; body = '...' }, 'endless',
    # 'silent', ... Each takes times (default 1; 0 means always) and pathPrefix.
    param([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [hashtable[]] $Act)
    $acts = foreach ($one in $Act) {
        $copy = $one.Clone()
        if ($copy.ContainsKey('times') -and $copy.times -eq 0) { $copy.times = [uint32]::MaxValue }
        $copy
    }
    Invoke-RestMethod -Method Post -Uri "$($Server.Url)/_hostile/acts" -NoProxy -ContentType 'application/json' `
        -Body (ConvertTo-Json @($acts) -Depth 5 -Compress) | Out-Null
}

function Reset-HostileServer {
    # Forgets the queued acts and the requests received.
    param([Parameter(Mandatory)] $Server)
    Invoke-RestMethod -Method Delete -Uri "$($Server.Url)/_hostile/acts" -NoProxy | Out-Null
    Invoke-RestMethod -Method Delete -Uri "$($Server.Url)/_hostile/requests" -NoProxy | Out-Null
}

function Get-HostileRequests {
    param([Parameter(Mandatory)] $Server)
    @(Invoke-RestMethod -Uri "$($Server.Url)/_hostile/requests" -NoProxy)
}

function Invoke-MockControl {
    param(
        [Parameter(Mandatory)] $Mock,
        [Parameter(Mandatory)] [string] $Method,
        [Parameter(Mandatory)] [string] $Path,
        $Body
    )
    $parameters = @{ Method = $Method; Uri = "$($Mock.BaseUrl)/_mock/$Path"; NoProxy = $true }
    if ($PSBoundParameters.ContainsKey('Body')) {
        $parameters.Body = ConvertTo-Json $Body -Depth 10 -Compress
        $parameters.ContentType = 'application/json'
    }
    Invoke-RestMethod @parameters
}

function Add-MockUser {
    param([Parameter(Mandatory)] $Mock, [Parameter(Mandatory)] [string] $UserPrincipalName, [string] $Id = [guid]::NewGuid().ToString())
    Invoke-MockControl $Mock POST users @{ users = @(@{ id = $Id; userPrincipalName = $UserPrincipalName }) } | Out-Null
    [pscustomobject]@{ Id = $Id; UserPrincipalName = $UserPrincipalName }
}

function New-MockToken {
    # An app-only token by default; -Roles @() gives one without the revoke permission.
    param([Parameter(Mandatory)] $Mock, [string[]] $Roles = @('User.RevokeSessions.All'), [int] $ExpiresInSeconds = 3600)
    (Invoke-MockControl $Mock POST tokens @{ roles = $Roles; expiresInSeconds = $ExpiresInSeconds }).accessToken
}

function Get-MockRequests {
    param([Parameter(Mandatory)] $Mock)
    @(Invoke-MockControl $Mock GET requests)
}

function Clear-MockRequests {
    param([Parameter(Mandatory)] $Mock)
    Invoke-MockControl $Mock DELETE requests | Out-Null
}

function Connect-GraphMock {
    # Registers the mock as environment 'Mock' and signs in with a token it minted.
    param([Parameter(Mandatory)] $Mock, [string] $Token = (New-MockToken $Mock))
    Add-MgEnvironment -Name Mock -GraphEndpoint $Mock.BaseUrl -AzureADEndpoint $Mock.BaseUrl | Out-Null
    Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $Token -AsPlainText -Force) -NoWelcome
}


function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-Squid {
    # A real squid proxy on loopback (Debian package 'squid'; 'apache2-utils' for htpasswd),
    # optionally requiring basic authentication. build.ps1 -Test installs both (Linux only).
    param([string] $UserName, [string] $Password)
    $squid = @('/usr/sbin/squid', '/usr/bin/squid') | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $squid) { throw 'squid is not installed: run `sudo apt-get install squid apache2-utils` (build.ps1 -Test does this as root on Debian).' }
    $folder = Join-Path ([System.IO.Path]::GetTempPath()) "graph-squid-$([guid]::NewGuid().ToString('n'))"
    New-Item -ItemType Directory -Path $folder | Out-Null
    # squid drops privileges to its own user, which must be able to write its logs here.
    & chmod 777 $folder
    $port = Get-FreeTcpPort
    $access = if ($UserName) {
        $passwordFile = Join-Path $folder 'passwd'
        & htpasswd -bc $passwordFile $UserName $Password 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { throw 'htpasswd failed: install apache2-utils.' }
        & chmod 644 $passwordFile
        $helper = @('/usr/lib/squid/basic_ncsa_auth', '/usr/lib64/squid/basic_ncsa_auth') | Where-Object { Test-Path $_ } | Select-Object -First 1
        "auth_param basic program $helper $passwordFile`nauth_param basic realm graph-tests`nacl authed proxy_auth REQUIRED`nhttp_access allow authed"
    }
    else {
        'http_access allow localhost'
    }
    @"
http_port 127.0.0.1:$port
pid_filename $folder/squid.pid
cache_log $folder/cache.log
access_log $folder/access.log
coredump_dir $folder
cache deny all
shutdown_lifetime 0 seconds
$access
http_access deny all
"@ | Set-Content (Join-Path $folder 'squid.conf')
    $start = [System.Diagnostics.ProcessStartInfo]::new($squid)
    foreach ($argument in '-N', '-f', (Join-Path $folder 'squid.conf')) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($process.HasExited) { throw "squid exited: $($process.StandardError.ReadToEnd()) $(Get-Content (Join-Path $folder 'cache.log') -Raw -ErrorAction SilentlyContinue)" }
        $client = [System.Net.Sockets.TcpClient]::new()
        try { $client.Connect('127.0.0.1', $port); break } catch { Start-Sleep -Milliseconds 100 } finally { $client.Dispose() }
    }
    [pscustomobject]@{ Process = $process; Url = "http://127.0.0.1:$port"; Folder = $folder; AccessLog = (Join-Path $folder 'access.log') }
}

function Stop-Squid {
    param([Parameter(Mandatory)] $Squid)
    if (-not $Squid.Process.HasExited) {
        & kill -TERM $Squid.Process.Id
        if (-not $Squid.Process.WaitForExit(10000)) { $Squid.Process.Kill($true) }
    }
    Remove-Item $Squid.Folder -Recurse -Force -ErrorAction SilentlyContinue
}

function Get-SquidAccessLog {
    # squid writes its access log on each request; give it a moment to flush.
    param([Parameter(Mandatory)] $Squid)
    Start-Sleep -Milliseconds 200
    @(Get-Content $Squid.AccessLog -ErrorAction SilentlyContinue)
}

Export-ModuleMember -Function *
