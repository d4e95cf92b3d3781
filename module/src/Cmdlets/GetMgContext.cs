using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Shows the current sign-in context; writes nothing when not connected.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MgContext")]
    [OutputType(typeof(AuthContext))]
    public sealed class GetMgContext : PSCmdlet
    {
        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            ContextInfo? context = GraphSessionState.Context;

            // The official module's connection, when it has one, is the one calls use.
            if (OfficialGraph.IsLoaded && (context is null || OfficialGraph.Current() is not null))
            {
                OfficialGraph.Forward(this, "Get-MgContext");
                return;
            }

            if (context is not null)
            {
                WriteObject(new AuthContext(context));
            }
        }
    }
}
