#requires -Version 7.4
<#
.SYNOPSIS
    Builds Microsoft.Graph.Beta.Users.Actions (Rust engine + C# shim) into out/ and imports it.
.DESCRIPTION
    Without switches: builds the Rust workspace (release) and the C# module, assembles the
    importable module in out/Microsoft.Graph.Beta.Users.Actions/<version>/ (manifest, assembly,
    native library per platform folder) and imports it into the current session.
    With -Test: builds the same way, then runs every test suite (rustfmt and clippy checks,
    cargo tests, Pester in a child pwsh -NoProfile) and exits non-zero when anything fails.
    Test-only tools (squid and htpasswd for the proxy tests) are installed first as root on
    Debian; otherwise the build stops before testing and names the command that installs them.
    With -Package: builds the native library in the dist profile (fat LTO) and the C# module,
    assembles the module folder with the native library of every platform built (this one, and
    those in -NativeLibraryPath) and packs it as a .nupkg that Install-PSResource installs by name
    from a repository folder (out/package/ unless -PackagePath says otherwise).
.EXAMPLE
    ./build.ps1
.EXAMPLE
    pwsh -NoProfile -File ./build.ps1 -Test
.EXAMPLE
    ./build.ps1 -Package -NativeLibraryPath ./native   # ./native/osx-arm64/libgraph_ffi.dylib, ...
#>
[CmdletBinding()]
param(
    # Run every test suite after building instead of importing the module.
    [switch] $Test,

    # Build the release package (.nupkg) instead of importing the module.
    [switch] $Package,

    # With -Package: a folder of native libraries built on other platforms, one folder per
    # platform named as in $NativeLibraries (osx-arm64/libgraph_ffi.dylib, win-x64/graph_ffi.dll, ...).
    [string] $NativeLibraryPath,

    # With -Package: the folder the .nupkg is written to (default out/package).
    [string] $PackagePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModuleName = 'Microsoft.Graph.Beta.Users.Actions'
$Root = $PSScriptRoot
$ModuleVersion = (Import-PowerShellDataFile (Join-Path $Root "$ModuleName.psd1")).ModuleVersion
$ModuleOut = Join-Path $Root "out/$ModuleName/$ModuleVersion"
$PesterVersion = '5.7.1'

# Every platform the module ships a native library for: its folder (a .NET runtime identifier)
# and the file name Rust gives the library there. module/src/Native/NativeLibraryResolver.cs has
# the same table; tests/Platforms.Tests.ps1 checks that the two agree.
$NativeLibraries = @{
    'linux-x64'   = 'libgraph_ffi.so'
    'linux-arm64' = 'libgraph_ffi.so'
    'osx-x64'     = 'libgraph_ffi.dylib'
    'osx-arm64'   = 'libgraph_ffi.dylib'
    'win-x64'     = 'graph_ffi.dll'
    'win-arm64'   = 'graph_ffi.dll'
}
# The PowerShell Gallery's platform tags, by the first part of a runtime identifier.
$GalleryPlatformTags = @{ linux = 'Linux'; osx = 'MacOS'; win = 'Windows' }

function Invoke-Checked {
    # Runs a native command and stops the build when it fails.
    param([string] $What, [scriptblock] $Command)
    Write-Host "==> $What" -ForegroundColor Cyan
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

function Get-RuntimeIdentifier {
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString().ToLowerInvariant()
    "$os-$arch"
}

function Get-NativeLibraryName {
    # The file name of the native library on a platform, from $NativeLibraries.
    param([string] $RuntimeIdentifier = (Get-RuntimeIdentifier))
    if (-not $NativeLibraries.ContainsKey($RuntimeIdentifier)) {
        throw "The module has no native library for the platform ${RuntimeIdentifier}: it is built for $(($NativeLibraries.Keys | Sort-Object) -join ', ') only."
    }
    $NativeLibraries[$RuntimeIdentifier]
}

function Build-ManagedModule {
    Invoke-Checked 'dotnet build (module)' {
        dotnet build (Join-Path $Root "module/$ModuleName.csproj") -c Release --nologo -v quiet
    }
}

function New-ModuleFolder {
    # Assembles an importable module folder: the manifest (tagged with the platforms it has a
    # native library for), the assembly, the help and <rid>/<file> for each native library.
    param([string] $Destination, [hashtable] $Libraries)
    if (Test-Path $Destination) { Remove-Item $Destination -Recurse -Force }
    New-Item -ItemType Directory -Path $Destination -Force | Out-Null
    Write-ModuleManifest -Destination (Join-Path $Destination "$ModuleName.psd1") -RuntimeIdentifiers $Libraries.Keys
    Copy-Item (Join-Path $Root "module/bin/Release/net8.0/$ModuleName.dll") $Destination
    foreach ($rid in $Libraries.Keys) {
        $nativeFolder = Join-Path $Destination $rid
        New-Item -ItemType Directory -Path $nativeFolder -Force | Out-Null
        Copy-Item $Libraries[$rid] (Join-Path $nativeFolder (Get-NativeLibraryName $rid))
    }
    $helpSource = Join-Path $Root "module/help/$ModuleName-Help.xml"
    if (Test-Path $helpSource) {
        $helpFolder = Join-Path $Destination 'en-US'
        New-Item -ItemType Directory -Path $helpFolder -Force | Out-Null
        # PowerShell looks up a binary cmdlet's help as "<assembly file name>-Help.xml".
        Copy-Item $helpSource (Join-Path $helpFolder "$ModuleName.dll-Help.xml")
    }
}

function Write-ModuleManifest {
    # Copies the manifest, adding to its tags the Gallery's tag of each operating system and the
    # runtime identifier of each platform the folder has a native library for.
    param([string] $Destination, [string[]] $RuntimeIdentifiers)
    $rids = @($RuntimeIdentifiers | Sort-Object)
    $platformTags = @($rids | ForEach-Object { $GalleryPlatformTags[($_ -split '-')[0]] } | Select-Object -Unique) + $rids
    $text = Get-Content -Raw (Join-Path $Root "$ModuleName.psd1")
    $tagsLine = [regex] '(?m)^(\s*Tags\s*=\s*@\([^)]*)\)'
    if (-not $tagsLine.IsMatch($text)) { throw "$ModuleName.psd1 has no 'Tags = @(...)' line in PrivateData.PSData to add the platform tags to." }
    $text = $tagsLine.Replace($text, "`${1}$(($platformTags | ForEach-Object { ", '$_'" }) -join ''))", 1)
    Set-Content -Path $Destination -Value $text -NoNewline -Encoding utf8NoBOM
}

function Build-Module {
    Invoke-Checked 'cargo build (release)' { cargo build --release --workspace --locked }
    Build-ManagedModule
    Invoke-Checked 'dotnet build (native host bridge)' {
        dotnet build (Join-Path $Root 'host/bridge/PwshHostBridge.csproj') -c Release --nologo -v quiet
    }
    $library = Join-Path $Root "target/release/$(Get-NativeLibraryName)"
    New-ModuleFolder -Destination $ModuleOut -Libraries @{ (Get-RuntimeIdentifier) = $library }
    Write-Host "==> module assembled in $ModuleOut" -ForegroundColor Cyan
}

function Get-GatheredNativeLibraries {
    # Checks what -Package needs before anything is built, and returns the libraries in
    # -NativeLibraryPath by platform: one folder per platform, holding exactly the file that
    # platform's library is named.
    if (-not (Get-Command Compress-PSResource -ErrorAction Ignore)) {
        throw 'build.ps1 -Package needs Compress-PSResource (PSResourceGet 1.1 or later, shipped with PowerShell 7.5 and later): run Install-PSResource Microsoft.PowerShell.PSResourceGet, or use a newer PowerShell.'
    }
    $libraries = @{}
    if (-not $NativeLibraryPath) { return $libraries }
    if (-not (Test-Path $NativeLibraryPath -PathType Container)) { throw "-NativeLibraryPath '$NativeLibraryPath' is not a folder." }
    foreach ($entry in Get-ChildItem $NativeLibraryPath) {
        if (-not $entry.PSIsContainer -or -not $NativeLibraries.ContainsKey($entry.Name)) {
            throw "'$($entry.FullName)' is not a platform folder: -NativeLibraryPath holds one folder per platform ($(($NativeLibraries.Keys | Sort-Object) -join ', ')), each with that platform's native library."
        }
        $expected = Get-NativeLibraryName $entry.Name
        $files = @(Get-ChildItem $entry.FullName -Recurse | ForEach-Object Name)
        if ($files.Count -ne 1 -or $files[0] -ne $expected) {
            throw "'$($entry.FullName)' must hold only the $($entry.Name) native library, '$expected'; it holds: $(if ($files) { $files -join ', ' } else { 'nothing' })."
        }
        $libraries[$entry.Name] = Join-Path $entry.FullName $expected
    }
    $libraries
}

function Build-Package {
    # Packs the module folder with this platform's library (dist profile) and $Libraries, the
    # ones gathered from -NativeLibraryPath.
    param([hashtable] $Libraries)
    $rid = Get-RuntimeIdentifier
    if ($Libraries.ContainsKey($rid)) {
        Write-Host "==> ${rid}: the library built here goes into the package, not the one in '$NativeLibraryPath'" -ForegroundColor Cyan
    }
    Invoke-Checked 'cargo build (dist profile: fat LTO)' { cargo build --profile dist -p graph-ffi --locked }
    Build-ManagedModule
    $Libraries[$rid] = Join-Path $Root "target/dist/$(Get-NativeLibraryName)"

    $destination = if ($PackagePath) { $PackagePath } else { Join-Path $Root 'out/package' }
    $moduleFolder = Join-Path $destination "$ModuleName/$ModuleVersion"
    New-ModuleFolder -Destination $moduleFolder -Libraries $Libraries
    $nupkg = Join-Path $destination "$ModuleName.$ModuleVersion.nupkg"
    Remove-Item $nupkg -Force -ErrorAction Ignore
    Compress-PSResource -Path $moduleFolder -DestinationPath $destination
    if (-not (Test-Path $nupkg)) { throw "Compress-PSResource did not write '$nupkg'." }
    $size = (Get-Item $nupkg).Length / 1MB
    Write-Host ("==> package {0} ({1:N2} MB; platforms: {2})" -f $nupkg, $size, (($Libraries.Keys | Sort-Object) -join ', ')) -ForegroundColor Cyan
}

function Test-ProxyTools {
    # What Start-Squid in tests/TestHelpers.psm1 runs: squid, and htpasswd for its user file.
    (@('/usr/sbin/squid', '/usr/bin/squid') | Where-Object { Test-Path $_ }) -and (Get-Command htpasswd -ErrorAction Ignore)
}

function Install-TestPrerequisites {
    # The proxy tests (Linux only) need a real squid. As root on Debian the build installs it;
    # anywhere else it stops before testing and names the command that installs it.
    if (-not $IsLinux -or (Test-ProxyTools)) { return }
    $aptGet = [bool] (Get-Command apt-get -ErrorAction Ignore)
    if ($aptGet -and (id -u) -eq '0') {
        Invoke-Checked 'apt-get update' { apt-get update -qq }
        Invoke-Checked 'apt-get install squid apache2-utils (for the proxy tests)' {
            env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid apache2-utils
        }
        # The package starts a system-wide proxy; the tests start their own on free ports.
        if (Get-Command service -ErrorAction Ignore) { service squid stop *> $null }
        if (Test-ProxyTools) { return }
        throw 'apt-get installed squid and apache2-utils, but /usr/sbin/squid or htpasswd is still missing.'
    }
    $install = if ($aptGet) { "run 'sudo apt-get install squid apache2-utils'" }
    elseif (Get-Command dnf -ErrorAction Ignore) { "run 'sudo dnf install squid httpd-tools'" }
    else { 'install them with your package manager' }
    throw "The proxy tests need squid and htpasswd, which are not installed: $install, then run ./build.ps1 -Test again."
}

function Get-PesterManifest {
    # Pester comes from NuGet (no PowerShell Gallery needed): restore it once, then reuse.
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $manifest = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $manifest)) {
        Invoke-Checked "restore Pester $PesterVersion from NuGet" {
            dotnet restore (Join-Path $Root 'tools/Pester.proj') --nologo -v quiet
        }
    }
    $manifest
}

function Invoke-AllTests {
    # Add-MgEnvironment and Connect-MgGraph -Scopes save to the module's data folder: the tests
    # (cargo's and Pester's, which inherit this) use a folder of their own, never the real one.
    $ownDataDir = $null
    if (-not $env:GRAPH_BETA_DATA_DIR) {
        $ownDataDir = Join-Path ([System.IO.Path]::GetTempPath()) "graph-beta-tests-$([guid]::NewGuid().ToString('n'))"
        $env:GRAPH_BETA_DATA_DIR = $ownDataDir
    }
    try {
        Invoke-TestSuites
    }
    finally {
        if ($ownDataDir) {
            Remove-Item $ownDataDir -Recurse -Force -ErrorAction SilentlyContinue
            Remove-Item Env:GRAPH_BETA_DATA_DIR
        }
    }
}

function Invoke-TestSuites {
    Invoke-Checked 'cargo fmt --check' { cargo fmt --all -- --check }
    Invoke-Checked 'cargo clippy' { cargo clippy --release --workspace --all-targets --locked -- -D warnings }
    Invoke-Checked 'cargo test' { cargo test --release --workspace --locked }

    $pester = Get-PesterManifest
    $env:GRAPH_MODULE_MANIFEST = Join-Path $ModuleOut "$ModuleName.psd1"
    $env:GRAPH_MOCK_PATH = Join-Path $Root "target/release/graph-mock$(if ($IsWindows) { '.exe' })"
    $results = Join-Path $Root 'tests/results'
    New-Item -ItemType Directory -Path $results -Force | Out-Null
    # A child pwsh -NoProfile: the caller's session state cannot leak into the tests.
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pester' -MinimumVersion $PesterVersion
`$configuration = New-PesterConfiguration
`$configuration.Run.Path = '$(Join-Path $Root 'tests')'
`$configuration.Run.PassThru = `$true
`$configuration.Output.Verbosity = 'Detailed'
`$configuration.TestResult.Enabled = `$true
`$configuration.TestResult.OutputPath = '$(Join-Path $results 'pester.xml')'
`$run = Invoke-Pester -Configuration `$configuration
# The detailed log is long and CI keeps only its tail: name every failure again at the end.
foreach (`$failed in @(`$run.Failed) + @(`$run.FailedBlocks) + @(`$run.FailedContainers)) {
    `$where = if (`$failed.ScriptBlock) { "`$(`$failed.ScriptBlock.File):`$(`$failed.ScriptBlock.StartPosition.StartLine)" } else { `$failed.Item }
    Write-Host "FAILED: `$(`$failed.ExpandedPath) (`$where)"
    foreach (`$record in `$failed.ErrorRecord) { Write-Host "    `$(`$record.Exception.Message)" }
}
if (`$run.Result -ne 'Passed') { exit 1 }
"@
    Invoke-Checked 'Pester (child pwsh -NoProfile)' { pwsh -NoProfile -NonInteractive -Command $script }
}

# Folders given on the command line are relative to the caller's location, not to $Root.
$NativeLibraryPath, $PackagePath = $NativeLibraryPath, $PackagePath |
    ForEach-Object { if ($_) { $PSCmdlet.GetUnresolvedProviderPathFromPSPath($_) } else { $_ } }

try {
    Push-Location $Root
    if (-not $Package -and ($NativeLibraryPath -or $PackagePath)) { throw '-NativeLibraryPath and -PackagePath go with -Package.' }
    # Everything that can be checked is checked before the long builds.
    if ($Package) { $gathered = Get-GatheredNativeLibraries }
    if ($Test) { Install-TestPrerequisites }
    if ($Test -or -not $Package) { Build-Module }
    if ($Test) {
        Invoke-AllTests
        Write-Host '==> all test suites passed' -ForegroundColor Green
    }
    if ($Package) { Build-Package -Libraries $gathered }
    if (-not $Test -and -not $Package) {
        Import-Module (Join-Path $ModuleOut "$ModuleName.psd1") -Force -Global
        Write-Host "==> imported $ModuleName $ModuleVersion" -ForegroundColor Green
    }
}
catch {
    Write-Host "build.ps1: $_" -ForegroundColor Red
    exit 1
}
finally {
    Pop-Location
}
