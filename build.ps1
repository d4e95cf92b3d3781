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
.EXAMPLE
    ./build.ps1
.EXAMPLE
    pwsh -NoProfile -File ./build.ps1 -Test
#>
[CmdletBinding()]
param(
    # Run every test suite after building instead of importing the module.
    [switch] $Test
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModuleName = 'Microsoft.Graph.Beta.Users.Actions'
$Root = $PSScriptRoot
$ModuleVersion = (Import-PowerShellDataFile (Join-Path $Root "$ModuleName.psd1")).ModuleVersion
$ModuleOut = Join-Path $Root "out/$ModuleName/$ModuleVersion"
$PesterVersion = '5.7.1'

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
    if ($IsWindows) { 'graph_ffi.dll' } elseif ($IsMacOS) { 'libgraph_ffi.dylib' } else { 'libgraph_ffi.so' }
}

function Build-Module {
    Invoke-Checked 'cargo build (release)' { cargo build --release --workspace --locked }
    Invoke-Checked 'dotnet build (module)' {
        dotnet build (Join-Path $Root "module/$ModuleName.csproj") -c Release --nologo -v quiet
    }
    Invoke-Checked 'dotnet build (native host bridge)' {
        dotnet build (Join-Path $Root 'host/bridge/PwshHostBridge.csproj') -c Release --nologo -v quiet
    }

    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    $nativeFolder = Join-Path $ModuleOut (Get-RuntimeIdentifier)
    New-Item -ItemType Directory -Path $nativeFolder -Force | Out-Null
    Copy-Item (Join-Path $Root "$ModuleName.psd1") $ModuleOut
    Copy-Item (Join-Path $Root "module/bin/Release/net8.0/$ModuleName.dll") $ModuleOut
    Copy-Item (Join-Path $Root "target/release/$(Get-NativeLibraryName)") $nativeFolder
    $helpSource = Join-Path $Root "module/help/$ModuleName-Help.xml"
    if (Test-Path $helpSource) {
        $helpFolder = Join-Path $ModuleOut 'en-US'
        New-Item -ItemType Directory -Path $helpFolder -Force | Out-Null
        # PowerShell looks up a binary cmdlet's help as "<assembly file name>-Help.xml".
        Copy-Item $helpSource (Join-Path $helpFolder "$ModuleName.dll-Help.xml")
    }
    Write-Host "==> module assembled in $ModuleOut" -ForegroundColor Cyan
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
`$configuration.Run.Exit = `$true
`$configuration.Output.Verbosity = 'Detailed'
`$configuration.TestResult.Enabled = `$true
`$configuration.TestResult.OutputPath = '$(Join-Path $results 'pester.xml')'
Invoke-Pester -Configuration `$configuration
"@
    Invoke-Checked 'Pester (child pwsh -NoProfile)' { pwsh -NoProfile -NonInteractive -Command $script }
}

try {
    Push-Location $Root
    Build-Module
    if ($Test) {
        Invoke-AllTests
        Write-Host '==> all test suites passed' -ForegroundColor Green
    }
    else {
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
