BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Manifest = Get-ModuleManifestPath
}

Describe 'the built module' -Tag CI {
    It 'imports from any directory in a new pwsh -NoProfile and exports its commands' {
        $elsewhere = [System.IO.Path]::GetTempPath()
        $names = pwsh -NoProfile -NonInteractive -Command "Set-Location '$elsewhere'; Import-Module '$Manifest'; (Get-Command -Module Microsoft.Graph.Beta.Users.Actions).Name"
        $LASTEXITCODE | Should -Be 0
        $names | Should -Contain 'Invoke-MgBetaInvalidateAllUserRefreshToken'
        $names | Should -Contain 'Connect-MgGraph'
    }

    It 'loads its native library from the platform folder whatever the current directory' {
        $elsewhere = [System.IO.Path]::GetTempPath()
        $output = pwsh -NoProfile -NonInteractive -Command "Set-Location '$elsewhere'; Import-Module '$Manifest'; (Get-MgEnvironment -Name Global).GraphEndpoint"
        $LASTEXITCODE | Should -Be 0
        $output | Should -Be 'https://graph.microsoft.com'
    }

    It 'holds only the manifest, its own assembly and native libraries' {
        $folder = Split-Path $Manifest -Parent
        $files = Get-ChildItem $folder -Recurse -File | ForEach-Object { $_.FullName.Substring($folder.Length + 1) -replace '\\', '/' }
        $unexpected = $files | Where-Object { $_ -notmatch '^(Microsoft\.Graph\.Beta\.Users\.Actions\.(psd1|dll)|(linux|osx|win)-(x64|arm64)/(lib)?graph_ffi\.(so|dylib|dll)|en-US/Microsoft\.Graph\.Beta\.Users\.Actions\.dll-Help\.xml)$' }
        $unexpected | Should -BeNullOrEmpty
    }

    It 'imports twice with -Force in one session' {
        $output = pwsh -NoProfile -NonInteractive -Command "Import-Module '$Manifest'; Import-Module '$Manifest' -Force; (Get-MgEnvironment -Name Global).Name"
        $LASTEXITCODE | Should -Be 0
        $output | Should -Be 'Global'
    }
}
