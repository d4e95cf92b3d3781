using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Removes a user-defined cloud; built-in ones cannot be removed.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "MgEnvironment", SupportsShouldProcess = true)]
    public sealed class RemoveMgEnvironment : PSCmdlet
    {
        /// <summary>The environment to remove.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = string.Empty;

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (!ShouldProcess(Name, "Remove Graph environment"))
            {
                return;
            }

            try
            {
                EnvironmentChange change = GraphCore.RemoveEnvironment(Name);
                if (change.Warning is not null)
                {
                    WriteWarning($"The environment '{Name}' is removed from this process but not from the saved environments: {change.Warning}");
                }
            }
            catch (NativeErrorException failure)
            {
                WriteError(GraphErrorRecords.ForOperation(failure.Error, "InvalidEnvironment", Name));
            }
        }
    }
}
