# build.ps1 -Package end to end, as a user gets the module: the .nupkg installs by name from a
# folder repository into a fresh HOME, imports by name in a new pwsh, and revokes a user.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Root = Split-Path $PSScriptRoot -Parent
    $script:ModuleName = 'Microsoft.Graph.Beta.Users.Actions'
    $script:SourceManifest = Import-PowerShellDataFile (Join-Path $Root "$ModuleName.psd1")
    $script:Version = $SourceManifest.ModuleVersion
    $script:Rid = Get-CurrentRuntimeIdentifier
    $script:Libraries = Get-NativeLibraryTable

    # The other platforms' libraries as the release workflow gathers them (stand-ins here: only
    # this platform's library is built on this machine).
    $native = Join-Path $TestDrive 'native'
    foreach ($other in $Libraries.Keys | Where-Object { $_ -ne $Rid }) {
        New-Item -ItemType Directory -Path (Join-Path $native $other) -Force | Out-Null
        Set-Content (Join-Path $native "$other/$($Libraries[$other])") "stand-in for the $other library"
    }
    $script:PackageFolder = Join-Path $TestDrive 'package'
    $script:BuildOutput = pwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build.ps1') -Package -NativeLibraryPath $native -PackagePath $PackageFolder *>&1 | Out-String
    $script:BuildExitCode = $LASTEXITCODE
    $script:Nupkg = Join-Path $PackageFolder "$ModuleName.$Version.nupkg"

    function Get-PackageEntry {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Nupkg)
        try { $zip.Entries | ForEach-Object { [pscustomobject]@{ Name = $_.FullName; Length = $_.Length; Text = if ($_.FullName -like '*.nuspec') { [System.IO.StreamReader]::new($_.Open()).ReadToEnd() } } } }
        finally { $zip.Dispose() }
    }

    function Invoke-FreshPwsh {
        # Runs a script file in a new pwsh -NoProfile whose HOME is $UserHome, with no module path
        # or data folders inherited from this process; returns its exit code and output.
        param([string] $UserHome, [string] $WorkingDirectory, [string] $Script, [string[]] $Arguments)
        $file = Join-Path $TestDrive "script-$([guid]::NewGuid().ToString('n')).ps1"
        Set-Content $file $Script
        $start = [System.Diagnostics.ProcessStartInfo]::new((Get-Command pwsh).Source)
        foreach ($argument in @('-NoProfile', '-NonInteractive', '-File', $file) + $Arguments) { $start.ArgumentList.Add($argument) }
        $start.WorkingDirectory = $WorkingDirectory
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $start.UseShellExecute = $false
        $start.Environment['HOME'] = $UserHome
        foreach ($name in 'PSModulePath', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'GRAPH_MODULE_MANIFEST') { $start.Environment.Remove($name) | Out-Null }
        $start.Environment['GRAPH_BETA_DATA_DIR'] = Join-Path $UserHome 'graph-data'
        $process = [System.Diagnostics.Process]::Start($start)
        $stderr = $process.StandardError.ReadToEndAsync()
        $stdout = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = @($stdout -split "`r?`n" | Where-Object { $_ }); Errors = $stderr.Result }
    }
}

Describe 'build.ps1 -Package' -Tag CI {
    It 'builds a .nupkg named after the module and the manifest''s version' {
        $BuildExitCode | Should -Be 0 -Because $BuildOutput
        $Nupkg | Should -Exist
    }

    It 'packs the manifest, the assembly, the help and the native library of every platform given' {
        $entries = Get-PackageEntry
        $module = $entries.Name | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\]\.xml$|[^/]+\.nuspec$)' } | Sort-Object
        $expected = @("$ModuleName.dll", "$ModuleName.psd1", "en-US/$ModuleName.dll-Help.xml") + ($Libraries.Keys | ForEach-Object { "$_/$($Libraries[$_])" })
        $module | Should -Be ($expected | Sort-Object)
        # This platform's library is the one just built (the dist profile), not a stand-in.
        ($entries | Where-Object Name -EQ "$Rid/$($Libraries[$Rid])").Length | Should -BeGreaterThan 1MB
    }

    It 'declares the gallery metadata: description, edition and platform tags, license, project, release notes' {
        $nuspec = [xml] (Get-PackageEntry | Where-Object Name -Like '*.nuspec').Text
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be $ModuleName
        $metadata.version | Should -Be $Version
        $metadata.description | Should -Be $SourceManifest.Description
        $metadata.licenseUrl | Should -Be $SourceManifest.PrivateData.PSData.LicenseUri
        $metadata.projectUrl | Should -Be $SourceManifest.PrivateData.PSData.ProjectUri
        $metadata.releaseNotes | Should -Be $SourceManifest.PrivateData.PSData.ReleaseNotes
        $tags = $metadata.tags -split ' '
        foreach ($tag in @('PSModule', 'PSEdition_Core', 'Linux', 'MacOS', 'Windows') + $Libraries.Keys) { $tags | Should -Contain $tag }
    }

    It 'installs by name from a folder repository into a fresh HOME, imports by name elsewhere and revokes a user against the mock' -Skip:$IsWindows {
        # (Windows: Install-PSResource -Scope CurrentUser writes to the Documents folder, which no
        # environment variable moves, so a fresh HOME cannot be given there.)
        $userHome = Join-Path $TestDrive 'home'
        $repository = Join-Path $TestDrive 'repository'
        $elsewhere = Join-Path $TestDrive 'elsewhere'
        New-Item -ItemType Directory -Path $userHome, $repository, $elsewhere | Out-Null
        Copy-Item $Nupkg $repository

        $install = Invoke-FreshPwsh -UserHome $userHome -WorkingDirectory $elsewhere -Arguments $repository, $ModuleName -Script @'
param($repository, $name)
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name LocalFolder -Uri $repository -Trusted
Install-PSResource -Name $name -Repository LocalFolder -Scope CurrentUser
(Get-InstalledPSResource -Name $name).Version.ToString()
'@
        $install.ExitCode | Should -Be 0 -Because $install.Errors
        $install.Output | Should -Be $Version

        $mock = Start-GraphMock
        try {
            $user = Add-MockUser $mock 'adele.vance@contoso.com'
            $run = Invoke-FreshPwsh -UserHome $userHome -WorkingDirectory $elsewhere -Arguments $ModuleName, $mock.BaseUrl, (New-MockToken $mock), $user.Id -Script @'
param($name, $baseUrl, $token, $userId)
$ErrorActionPreference = 'Stop'
Import-Module $name
(Get-Module $name).ModuleBase
Add-MgEnvironment -Name Mock -GraphEndpoint $baseUrl -AzureADEndpoint $baseUrl | Out-Null
Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $token -AsPlainText -Force) -NoWelcome
Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $userId
'@
            $run.ExitCode | Should -Be 0 -Because $run.Errors
            $run.Output[0] | Should -Be (Join-Path $userHome ".local/share/powershell/Modules/$ModuleName/$Version")
            $run.Output[1] | Should -Be 'True'
            $requests = @(Get-MockRequests $mock | Where-Object { $_.method -eq 'POST' })
            $requests.Count | Should -Be 1
            $requests[0].rawPath | Should -Be "/beta/users/$($user.Id)/invalidateAllRefreshTokens"
            $requests[0].status | Should -Be 200
        }
        finally {
            Stop-GraphMock $mock
        }
    }
}
