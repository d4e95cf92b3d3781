using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Lists the clouds Connect-MgGraph can use: built-in ones and those added with Add-MgEnvironment.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MgEnvironment")]
    [OutputType(typeof(GraphEnvironment))]
    public sealed class GetMgEnvironment : PSCmdlet
    {
        /// <summary>Only the environment of this name (wildcards allowed).</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        public string? Name { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            WildcardPattern? pattern = Name is null ? null : new WildcardPattern(Name, WildcardOptions.IgnoreCase);
            foreach (EnvironmentInfo environment in GraphCore.ListEnvironments())
            {
                if (pattern is null || pattern.IsMatch(environment.Name))
                {
                    WriteObject(new GraphEnvironment(environment));
                }
            }
        }
    }
}
