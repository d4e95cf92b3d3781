# The module's offline help (module/help/Microsoft.Graph.Beta.Users.Actions-Help.xml, installed by
# build.ps1 as en-US/Microsoft.Graph.Beta.Users.Actions.dll-Help.xml). The parameter checks walk what
# Get-Command reports, so a parameter added to a cmdlet without help fails here, while help written
# ahead of an implementation (documented parameters that do not exist yet) does not.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force

    $excluded = [System.Management.Automation.PSCmdlet]::CommonParameters +
        [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    $cmdlets = Get-Command -Module Microsoft.Graph.Beta.Users.Actions -CommandType Cmdlet
    $script:CommandCases = foreach ($cmdlet in $cmdlets) { @{ Command = $cmdlet.Name } }
    $script:ParameterCases = foreach ($cmdlet in $cmdlets) {
        foreach ($parameter in $cmdlet.Parameters.Values) {
            if ($parameter.Name -notin $excluded) {
                @{ Command = $cmdlet.Name; Parameter = $parameter.Name }
            }
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:Manifest = Get-ModuleManifestPath
    Import-Module $Manifest -Force
    $script:ModuleName = 'Microsoft.Graph.Beta.Users.Actions'
    $script:Revoke = 'Invoke-MgBetaInvalidateAllUserRefreshToken'

    function Get-HelpText {
        # Joins the paragraphs of a help field (description, remarks, alerts) into one string.
        param($Field)
        (@($Field) | ForEach-Object { if ($_ -is [string]) { $_ } else { $_.Text } }) -join "`n"
    }

    function Invoke-HelpInChildProcess {
        # Runs Get-Help in a new pwsh -NoProfile and returns what it saw as an object. With
        # -WithoutNetwork the child has no network at all where Linux lets an unprivileged user
        # make a network namespace, and otherwise every HTTP request it might make goes to a
        # closed port.
        param([Parameter(Mandatory)] [string] $Command, [string] $Culture, [switch] $WithoutNetwork)
        $script = @"
`$ErrorActionPreference = 'Stop'
`$env:HTTP_PROXY = 'http://127.0.0.1:9'; `$env:HTTPS_PROXY = 'http://127.0.0.1:9'; `$env:NO_PROXY = ''
$(if ($Culture) { "[cultureinfo]::CurrentUICulture = '$Culture'" })
Import-Module '$Manifest'
`$help = Get-Help '$Command' -Full
[pscustomobject]@{
    TypeNames   = @(`$help.pstypenames)
    Synopsis    = `$help.Synopsis
    Description = (@(`$help.description) | ForEach-Object Text) -join "``n"
    Examples    = @(`$help.examples.example).Count
    SyntaxItems = @(`$help.syntax.syntaxItem).Count
} | ConvertTo-Json -Compress
"@
        $isolate = $WithoutNetwork -and $IsLinux -and (Get-Command unshare -ErrorAction Ignore)
        if ($isolate) {
            unshare -rn true 2>$null
            $isolate = $LASTEXITCODE -eq 0
        }
        $output = if ($isolate) {
            unshare -rn pwsh -NoProfile -NonInteractive -Command $script
        }
        else {
            pwsh -NoProfile -NonInteractive -Command $script
        }
        if ($LASTEXITCODE -ne 0) { throw "the child pwsh failed: $output" }
        ($output -join "`n") | ConvertFrom-Json
    }
}

Describe 'the help of Invoke-MgBetaInvalidateAllUserRefreshToken' -Tag CI {
    BeforeAll {
        $script:Help = Get-Help $Revoke -Full
    }

    It 'comes from the module''s MAML help file' {
        $Help.pstypenames | Should -Contain 'MamlCommandHelpInfo'
    }

    It 'has a written synopsis, not the syntax PowerShell shows when help is missing' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis.Trim() | Should -Not -BeLike "$Revoke*"
        $Help.Synopsis | Should -Not -Match '<CommonParameters>|\[-\w+'
    }

    It 'has a description of what revocation does, how long it takes, its guest caveat and its permission' {
        $description = Get-HelpText $Help.description
        $description | Should -Match 'refresh token'
        $description | Should -Match 'few minutes'
        $description | Should -Match 'B2B|guest'
        $description | Should -Match 'User\.RevokeSessions\.All'
        $description | Should -Match 'role'
    }

    It 'shows the Invalidate syntax with UserId and the InvalidateViaIdentity syntax with InputObject' {
        $items = @($Help.syntax.syntaxItem)
        $items.Count | Should -Be 2
        $names = $items | ForEach-Object { , @($_.parameter.name) }
        $names[0] | Should -Contain 'UserId'
        $names[0] | Should -Not -Contain 'InputObject'
        $names[1] | Should -Contain 'InputObject'
        $names[1] | Should -Not -Contain 'UserId'
    }

    It 'has at least five examples, each with code and an explanation' {
        $examples = @($Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 5
        foreach ($example in $examples) {
            $example.code | Should -Match $Revoke
            Get-HelpText $example.remarks | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes its inputs: the user identity and the headers dictionary' {
        $inputs = @($Help.inputTypes.inputType)
        $inputs.type.name | Should -Contain 'Microsoft.Graph.Beta.PowerShell.Models.IUsersActionsIdentity'
        $inputs.type.name | Should -Contain 'System.Collections.IDictionary'
        foreach ($item in $inputs) { Get-HelpText $item.description | Should -Not -BeNullOrEmpty }
    }

    It 'names System.Boolean as its output and explains the Value property' {
        $outputs = @($Help.returnValues.returnValue)
        $outputs.type.name | Should -Contain 'System.Boolean'
        Get-HelpText $outputs.description | Should -Match '\bValue\b'
    }

    It 'has notes on the InputObject properties and on the error records' {
        $notes = Get-HelpText $Help.alertSet.alert
        $notes | Should -Match 'INPUTOBJECT'
        $notes | Should -Match 'request-id'
        $notes | Should -Match 'client-request-id'
    }

    It 'links to the Graph API reference and the official cmdlet reference' {
        $uris = @($Help.relatedLinks.navigationLink.uri)
        $uris | Should -Contain 'https://learn.microsoft.com/graph/api/user-invalidateallrefreshtokens?view=graph-rest-beta'
        $uris | Should -Contain 'https://learn.microsoft.com/powershell/module/microsoft.graph.beta.users.actions/invoke-mgbetainvalidatealluserrefreshtoken'
    }
}

Describe 'the help of every exported cmdlet' -Tag CI {
    It 'is installed where PowerShell looks for the help of the module''s assembly' {
        $module = Get-Module $ModuleName
        $path = Join-Path $module.ModuleBase "en-US/$ModuleName.dll-Help.xml"
        $path | Should -Exist
        Split-Path (Get-Command $Revoke).HelpFile -Leaf | Should -Be "$ModuleName.dll-Help.xml"
    }

    It 'documents exactly the exported cmdlets' {
        $path = Join-Path (Get-Module $ModuleName).ModuleBase "en-US/$ModuleName.dll-Help.xml"
        [xml] $maml = Get-Content $path -Raw
        $documented = @($maml.helpItems.command | ForEach-Object { $_.details.name.Trim() }) | Sort-Object
        $exported = @((Get-Command -Module $ModuleName -CommandType Cmdlet).Name) | Sort-Object
        $documented | Should -Be $exported
    }

    It '<Command> has a synopsis, a description and an example' -ForEach $CommandCases {
        $help = Get-Help $Command -Full
        $help.pstypenames | Should -Contain 'MamlCommandHelpInfo'
        $help.Synopsis.Trim() | Should -Not -BeLike "$Command*"
        Get-HelpText $help.description | Should -Not -BeNullOrEmpty
        @($help.examples.example).Count | Should -BeGreaterOrEqual 1
    }

    It '<Command> documents -<Parameter> with a description' -ForEach $ParameterCases {
        $help = Get-Help $Command -Parameter $Parameter -ErrorAction SilentlyContinue
        $help | Should -Not -BeNullOrEmpty -Because "-$Parameter of $Command needs an entry in the help file"
        (Get-HelpText $help.description).Trim() | Should -Not -BeNullOrEmpty -Because "-$Parameter of $Command needs a description"
    }

    It '<Command> documents the type, aliases and binding of -<Parameter> as the cmdlet declares them' -ForEach $ParameterCases {
        $metadata = (Get-Command $Command).Parameters[$Parameter]
        $sets = @($metadata.ParameterSets.Values)
        $help = Get-Help $Command -Parameter $Parameter

        $help.type.name | Should -Be $metadata.ParameterType.FullName
        $help.required | Should -Be ([string](@($sets | Where-Object { -not $_.IsMandatory }).Count -eq 0)).ToLowerInvariant()
        $pipeline = [string] $help.pipelineInput
        ($pipeline -match 'ByValue') | Should -Be ([bool]($sets | Where-Object ValueFromPipeline))
        ($pipeline -match 'ByPropertyName') | Should -Be ([bool]($sets | Where-Object ValueFromPipelineByPropertyName))
        $positions = @($sets | Where-Object { $_.Position -ge 0 } | ForEach-Object { [string] $_.Position } | Select-Object -Unique)
        $help.position | Should -Be $(if ($positions) { $positions[0] } else { 'named' })
        $helpAliases = @(([string] $help.aliases) -split ',\s*' | Where-Object { $_ -and $_ -ne 'none' })
        foreach ($alias in $metadata.Aliases) { $helpAliases | Should -Contain $alias }
    }
}

Describe 'offline help' -Tag CI {
    It 'gives the full help of Invoke-MgBetaInvalidateAllUserRefreshToken in a new process without network' {
        $seen = Invoke-HelpInChildProcess -Command $Revoke -WithoutNetwork
        $seen.TypeNames | Should -Contain 'MamlCommandHelpInfo'
        $seen.Synopsis | Should -Be (Get-Help $Revoke).Synopsis
        $seen.Description | Should -Match 'User\.RevokeSessions\.All'
        $seen.SyntaxItems | Should -Be 2
        $seen.Examples | Should -BeGreaterOrEqual 5
    }

    It 'falls back to the en-US help for a user whose UI culture is not English' {
        $seen = Invoke-HelpInChildProcess -Command $Revoke -Culture 'de-DE' -WithoutNetwork
        $seen.TypeNames | Should -Contain 'MamlCommandHelpInfo'
        $seen.Examples | Should -BeGreaterOrEqual 5
    }
}
