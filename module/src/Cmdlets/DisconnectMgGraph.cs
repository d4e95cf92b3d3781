using System;
using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs out: forgets the current context and its tokens (with the official Microsoft.Graph.Authentication loaded, its connection too).</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Disconnect, "MgGraph")]
    [Alias("Disconnect-Graph")]
    [OutputType(typeof(AuthContext))]
    public sealed class DisconnectMgGraph : PSCmdlet
    {
        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            // A delegated sign-in also forgets its refresh token, in the CurrentUser cache too.
            if (GraphSessionState.OwnSession is SessionHandle session)
            {
                try
                {
                    GraphCore.ForgetSession(session);
                }
                catch (NativeErrorException failure)
                {
                    // This session is signed out all the same (the context is cleared below);
                    // the message names the cache file still holding the sign-in.
                    WriteWarning(failure.Error.Message);
                }
            }

            ContextInfo? context = GraphSessionState.Clear();

            // The official module's connection is the one both modules use: its Disconnect-MgGraph
            // ends it (and says so when nobody was connected).
            if (OfficialGraph.IsLoaded && (context is null || OfficialGraph.Current() is not null))
            {
                OfficialGraph.Forward(this, "Disconnect-MgGraph");
                return;
            }

            if (context is null)
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException("No application to sign out from: run Connect-MgGraph first."),
                    "NotConnected",
                    ErrorCategory.InvalidOperation,
                    null));
                return;
            }

            WriteObject(new AuthContext(context));
        }
    }
}
