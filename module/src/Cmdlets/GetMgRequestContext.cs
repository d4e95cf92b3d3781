using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Shows the retry and timeout settings of Graph calls in this process.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MgRequestContext")]
    [OutputType(typeof(RequestContext))]
    public sealed class GetMgRequestContext : PSCmdlet
    {
        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            WriteObject(new RequestContext(GraphCore.GetRequestContext()));
        }
    }
}
