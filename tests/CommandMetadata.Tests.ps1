# The revocation cmdlets' metadata against a table written from cmdlet-spec.md and, for
# Revoke-MgBetaUserSignInSession, sibling-cmdlets.md (plus this module's own -Verify and
# -JournalPath, issue 14): any drift fails. The two differ only in their parameter set names,
# written here as Main and ViaIdentity.
BeforeDiscovery {
    $script:Spec = @(
        @{ Name = 'UserId'; Type = 'System.String'; Aliases = @(); Sets = @{ Main = @{ Mandatory = $true; Pipeline = $false } } }
        @{ Name = 'InputObject'; Type = 'Microsoft.Graph.Beta.PowerShell.Models.IUsersActionsIdentity'; Aliases = @(); Sets = @{ ViaIdentity = @{ Mandatory = $true; Pipeline = $true } } }
        @{ Name = 'ResponseHeadersVariable'; Type = 'System.String'; Aliases = @('RHV'); Sets = 'All' }
        @{ Name = 'Break'; Type = 'System.Management.Automation.SwitchParameter'; Aliases = @(); Sets = 'All'; DontShow = $true }
        @{ Name = 'Headers'; Type = 'System.Collections.IDictionary'; Aliases = @(); Sets = 'All'; Pipeline = $true }
        @{ Name = 'HttpPipelineAppend'; Type = 'Microsoft.Graph.Beta.PowerShell.Runtime.SendAsyncStep[]'; Aliases = @(); Sets = 'All' }
        @{ Name = 'HttpPipelinePrepend'; Type = 'Microsoft.Graph.Beta.PowerShell.Runtime.SendAsyncStep[]'; Aliases = @(); Sets = 'All' }
        @{ Name = 'Proxy'; Type = 'System.Uri'; Aliases = @(); Sets = 'All' }
        @{ Name = 'ProxyCredential'; Type = 'System.Management.Automation.PSCredential'; Aliases = @(); Sets = 'All' }
        @{ Name = 'ProxyUseDefaultCredentials'; Type = 'System.Management.Automation.SwitchParameter'; Aliases = @(); Sets = 'All' }
        @{ Name = 'Verify'; Type = 'System.Management.Automation.SwitchParameter'; Aliases = @(); Sets = 'All' }
        @{ Name = 'JournalPath'; Type = 'System.String'; Aliases = @(); Sets = 'All' }
        @{ Name = 'WhatIf'; Type = 'System.Management.Automation.SwitchParameter'; Aliases = @('wi'); Sets = 'All' }
        @{ Name = 'Confirm'; Type = 'System.Management.Automation.SwitchParameter'; Aliases = @('cf'); Sets = 'All' }
    )
    $script:Cmdlets = @(
        @{ CmdletName = 'Invoke-MgBetaInvalidateAllUserRefreshToken'; Main = 'Invalidate'; ViaIdentity = 'InvalidateViaIdentity' }
        @{ CmdletName = 'Revoke-MgBetaUserSignInSession'; Main = 'Revoke'; ViaIdentity = 'RevokeViaIdentity' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
}

Describe '<CmdletName> metadata' -Tag CI -ForEach $Cmdlets {
    BeforeAll {
        $script:Command = Get-Command $CmdletName
        $script:SetNames = @($Main, $ViaIdentity)
        $script:SetOf = @{ Main = $Main; ViaIdentity = $ViaIdentity }
    }

    It 'has exactly the parameter sets <Main> (default) and <ViaIdentity>' {
        ($Command.ParameterSets.Name | Sort-Object) | Should -Be ($SetNames | Sort-Object)
        $Command.DefaultParameterSet | Should -Be $Main
    }

    It 'declares [OutputType([bool])] and supports ShouldProcess' {
        $Command.OutputType.Type | Should -Be ([bool])
        $Command.Parameters.Keys | Should -Contain 'WhatIf'
        $Command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'Medium'
    }

    It 'has no parameter the spec does not list' {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $own = $Command.Parameters.Keys | Where-Object { $_ -notin $common -or $_ -in 'WhatIf', 'Confirm' }
        ($own | Sort-Object) | Should -Be (($Spec.Name) | Sort-Object)
    }

    It 'declares <Name> as <Type> with aliases <Aliases>' -ForEach $Spec {
        $parameter = $Command.Parameters[$Name]
        $parameter | Should -Not -BeNullOrEmpty
        $parameter.ParameterType.FullName | Should -Be $Type
        @($parameter.Aliases | Sort-Object) | Should -Be @($Aliases | Sort-Object)
        $memberOf = if ($Sets -eq 'All') { $SetNames } else { @($Sets.Keys | ForEach-Object { $SetOf[$_] }) }
        $specSet = @{ $Main = 'Main'; $ViaIdentity = 'ViaIdentity' }
        foreach ($setName in $SetNames) {
            $set = $Command.ParameterSets | Where-Object Name -EQ $setName
            $inSet = $set.Parameters | Where-Object Name -EQ $Name
            if ($setName -in $memberOf) {
                $inSet | Should -Not -BeNullOrEmpty -Because "$Name belongs to $setName"
                $mandatory = if ($Sets -eq 'All') { $false } else { $Sets[$specSet[$setName]].Mandatory }
                $fromPipeline = if ($Sets -eq 'All') { [bool]$Pipeline } else { $Sets[$specSet[$setName]].Pipeline }
                $inSet.IsMandatory | Should -Be $mandatory -Because "$Name mandatory in $setName"
                $inSet.ValueFromPipeline | Should -Be $fromPipeline -Because "$Name pipeline in $setName"
                $inSet.ValueFromPipelineByPropertyName | Should -BeFalse
                $inSet.ValueFromRemainingArguments | Should -BeFalse
                $inSet.Position | Should -Be ([int]::MinValue) -Because "$Name is named only"
            }
            else {
                $inSet | Should -BeNullOrEmpty -Because "$Name is not in $setName"
            }
        }
    }

    It 'hides -Break from tab completion' {
        $attribute = $Command.Parameters['Break'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | Select-Object -First 1
        $attribute.DontShow | Should -BeTrue
        $line = "$CmdletName -"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Not -Contain '-Break'
    }
}
