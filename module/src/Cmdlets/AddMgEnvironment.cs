using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Adds (or replaces) a user-defined cloud: an Entra ID authority and a Graph endpoint.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Add, "MgEnvironment", SupportsShouldProcess = true)]
    [OutputType(typeof(GraphEnvironment))]
    public sealed class AddMgEnvironment : PSCmdlet
    {
        /// <summary>The name to pass to Connect-MgGraph -Environment.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = string.Empty;

        /// <summary>The Microsoft Graph endpoint (https; plain http only to loopback).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string GraphEndpoint { get; set; } = string.Empty;

        /// <summary>The Entra ID authority (https; plain http only to loopback).</summary>
        [Parameter(Mandatory = true, Position = 2)]
        [ValidateNotNullOrEmpty]
        public string AzureADEndpoint { get; set; } = string.Empty;

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (!ShouldProcess(Name, "Add Graph environment"))
            {
                return;
            }

            try
            {
                EnvironmentChange change = GraphCore.AddEnvironment(Name, GraphEndpoint, AzureADEndpoint);
                if (change.Warning is not null)
                {
                    WriteWarning($"The environment '{Name}' is added for this process but could not be saved for new ones: {change.Warning}");
                }

                WriteObject(new GraphEnvironment(change.Environment));
            }
            catch (NativeErrorException failure)
            {
                WriteError(GraphErrorRecords.ForOperation(failure.Error, "InvalidEnvironment", Name));
            }
        }
    }
}
