@{
    RootModule           = 'Microsoft.Graph.Beta.Users.Actions.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '5f0c3b4e-8d6a-4c61-9a2e-1b7f4e2d9c30'
    Author               = 'Microsoft.Graph.Beta.Users.Actions contributors'
    CompanyName          = 'Microsoft.Graph.Beta.Users.Actions contributors'
    Copyright            = '(c) Microsoft.Graph.Beta.Users.Actions contributors. MIT License.'
    Description          = 'A drop-in, faster Microsoft.Graph.Beta.Users.Actions: Invoke-MgBetaInvalidateAllUserRefreshToken and the sign-in cmdlets it needs, with a Rust engine and no managed dependencies to conflict with Az or any other module.'
    PowerShellVersion    = '7.4'
    CmdletsToExport      = @(
        'Invoke-MgBetaInvalidateAllUserRefreshToken'
        'Connect-MgGraph'
        'Disconnect-MgGraph'
        'Get-MgContext'
        'Get-MgEnvironment'
        'Add-MgEnvironment'
        'Remove-MgEnvironment'
        'Get-MgRequestContext'
        'Set-MgRequestContext'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @('Connect-Graph', 'Disconnect-Graph')
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Microsoft', 'Graph', 'EntraID', 'IncidentResponse', 'PSEdition_Core', 'Windows', 'Linux', 'macOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First release: Invoke-MgBetaInvalidateAllUserRefreshToken -UserId, Connect-MgGraph -AccessToken, environments.'
        }
    }
}
