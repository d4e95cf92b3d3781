using System;
using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs out: forgets the current context and its tokens.</para>
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
            if (GraphSessionState.Session is SessionHandle session)
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
