@{
    RootModule           = 'Microsoft.Graph.Beta.Users.Actions.dll'
    ModuleVersion        = '2.25.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '5f0c3b4e-8d6a-4c61-9a2e-1b7f4e2d9c30'
    Author               = 'Microsoft.Graph.Beta.Users.Actions contributors'
    CompanyName          = 'Microsoft.Graph.Beta.Users.Actions contributors'
    Copyright            = '(c) Microsoft.Graph.Beta.Users.Actions contributors. MIT License.'
    Description          = 'A drop-in, faster Microsoft.Graph.Beta.Users.Actions: Invoke-MgBetaInvalidateAllUserRefreshToken and the sign-in cmdlets it needs, with a Rust engine and no managed dependencies to conflict with Az or any other module.'
    PowerShellVersion    = '7.4'
    CmdletsToExport      = @(
        'Invoke-MgBetaInvalidateAllUserRefreshToken'
        'Revoke-MgBetaUserSignInSession'
        'Connect-MgGraph'
        'Disconnect-MgGraph'
        'Get-MgContext'
        'Get-MgEnvironment'
        'Add-MgEnvironment'
        'Remove-MgEnvironment'
        'Get-MgRequestContext'
        'Set-MgRequestContext'
        'Invoke-MgGraphRequest'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @('Connect-Graph', 'Disconnect-Graph', 'Invoke-GraphRequest', 'Invoke-MgRestMethod')
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # build.ps1 adds a tag for each platform the module folder has a native library for
            # ('Linux', 'linux-x64', ...): edit the others here.
            Tags         = @('Microsoft', 'Graph', 'MicrosoftGraph', 'EntraID', 'AzureAD', 'Identity', 'IncidentResponse', 'RefreshToken', 'PSEdition_Core')
            LicenseUri   = 'https://github.com/example/Microsoft.Graph.Beta.Users.Actions/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/example/Microsoft.Graph.Beta.Users.Actions'
            ReleaseNotes = 'Invoke-MgBetaInvalidateAllUserRefreshToken for one user (-UserId, -InputObject) or many piped at once (JSON batches paced to Graph''s throttling, results in input order, Ctrl+C summary); Connect-MgGraph with an access token, client secret, certificate, managed identity, environment variables or device code (saved in an encrypted CurrentUser token cache); Disconnect-MgGraph, Get-MgContext, Get/Add/Remove-MgEnvironment, Get/Set-MgRequestContext. Native libraries for linux-x64, linux-arm64, osx-x64, osx-arm64, win-x64 and win-arm64 (see the tags for the ones in this package).'
        }
    }
}
