# The six platforms: the resolver (C#) and build.ps1 know each one's folder and file name, and a
# module folder without the library for the current platform fails at import, saying so.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $table = Get-NativeLibraryTable
    # Wrong: another platform's file name, which build.ps1 must refuse.
    $script:Platforms = foreach ($rid in $table.Keys) {
        @{ Rid = $rid; File = $table[$rid]; Wrong = @($table.Values | Where-Object { $_ -ne $table[$rid] })[0] }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Manifest = Get-ModuleManifestPath
    $script:BuildScript = Join-Path (Split-Path $PSScriptRoot -Parent) 'build.ps1'
    Import-Module $Manifest -Force
    # NativeLibraryResolver.Platforms, read from the built assembly.
    $resolver = (Get-Module Microsoft.Graph.Beta.Users.Actions).ImplementingAssembly.GetType('Microsoft.Graph.Beta.PowerShell.Native.NativeLibraryResolver', $true)
    $script:ResolverTable = @{}
    foreach ($platform in $resolver.GetField('Platforms', [System.Reflection.BindingFlags]'NonPublic, Static').GetValue($null)) {
        $ResolverTable[$platform.RuntimeIdentifier] = $platform.FileName
    }
}

Describe 'the native library of each platform' -Tag CI {
    It 'the resolver looks for <File> in the <Rid> folder' -ForEach $Platforms {
        $ResolverTable[$Rid] | Should -BeExactly $File
    }

    It 'the resolver knows no other platform' {
        @($ResolverTable.Keys | Sort-Object) | Should -Be @($Platforms.Rid | Sort-Object)
    }

    It 'build.ps1 -Package takes <File> for <Rid> and refuses any other name before building' -ForEach $Platforms {
        $native = Join-Path $TestDrive "native-$Rid"
        New-Item -ItemType Directory -Path (Join-Path $native $Rid) -Force | Out-Null
        Set-Content (Join-Path $native "$Rid/$Wrong") 'not a library'
        $output = pwsh -NoProfile -NonInteractive -File $BuildScript -Package -NativeLibraryPath $native -PackagePath (Join-Path $TestDrive "package-$Rid") *>&1 | Out-String
        $LASTEXITCODE | Should -Be 1
        $output | Should -BeLike "*must hold only the $Rid native library, '$File'; it holds: $Wrong.*"
        $output | Should -Not -BeLike '*cargo build*'
    }

    It 'build.ps1 -Package refuses a folder that names no platform' {
        $native = Join-Path $TestDrive 'native-unknown'
        New-Item -ItemType Directory -Path (Join-Path $native 'freebsd-x64') -Force | Out-Null
        $output = pwsh -NoProfile -NonInteractive -File $BuildScript -Package -NativeLibraryPath $native *>&1 | Out-String
        $LASTEXITCODE | Should -Be 1
        $output | Should -BeLike "*freebsd-x64' is not a platform folder*($(($Platforms.Rid | Sort-Object) -join ', '))*"
    }
}

Describe 'a module folder without the library for this platform' -Tag CI {
    It 'fails Import-Module with a message naming the platform and the folder it looked in' {
        $rid = Get-CurrentRuntimeIdentifier
        $copy = Join-Path $TestDrive 'Microsoft.Graph.Beta.Users.Actions'
        Copy-Item (Split-Path $Manifest -Parent) $copy -Recurse
        Remove-Item (Join-Path $copy $rid) -Recurse -Force
        $script = {
            param($module)
            try { Import-Module $module -ErrorAction Stop; 'imported' }
            catch { $_.Exception.GetType().FullName; $_.Exception.Message; [bool] (Get-Module Microsoft.Graph.Beta.Users.Actions) }
        }
        $type, $message, $loaded = pwsh -NoProfile -NonInteractive -Command $script -args $copy
        $type | Should -Be 'System.PlatformNotSupportedException'
        $message | Should -BeLike "*no native library for the platform $rid*'$(Join-Path $copy $rid)'*"
        $message | Should -Not -BeLike '*DllNotFound*'
        $loaded | Should -Be 'False'
    }
}
