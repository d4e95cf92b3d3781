using System;
using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs a user out everywhere: invalidates every refresh token and browser session cookie.</para>
    /// </summary>
    [Cmdlet(
        VerbsLifecycle.Invoke,
        "MgBetaInvalidateAllUserRefreshToken",
        DefaultParameterSetName = InvalidateParameterSet,
        SupportsShouldProcess = true,
        ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(bool))]
    public sealed class InvokeMgBetaInvalidateAllUserRefreshToken : PSCmdlet, IDisposable
    {
        #region Parameters

        private const string InvalidateParameterSet = "Invalidate";

        /// <summary>The user's object id or user principal name.</summary>
        [Parameter(Mandatory = true, ParameterSetName = InvalidateParameterSet)]
        public string UserId { get; set; } = string.Empty;

        #endregion

        #region Members

        private readonly CancelHandle _cancel = new();

        #endregion

        #region Method Overrides

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            Revoke(UserId);
        }

        /// <summary>Ctrl+C: stops the request in flight; PowerShell runs this on another thread.</summary>
        protected override void StopProcessing()
        {
            _cancel.Signal();
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            _cancel.Dispose();
        }

        #endregion

        #region Private Methods

        private void Revoke(string userId)
        {
            if (!ShouldProcess($"Call remote 'POST /users/{userId}/invalidateAllRefreshTokens' operation"))
            {
                return;
            }

            SessionHandle? session = GraphSessionState.Session;
            if (session is null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException("Authentication needed. Please call Connect-MgGraph."),
                    GraphErrorRecords.AuthenticationNeededId,
                    ErrorCategory.AuthenticationError,
                    null));
            }

            WriteVerbose($"Invalidating all refresh tokens and session cookies of user '{userId}'.");
            (RevocationOutcome? outcome, NativeError? error) = GraphCore.InvalidateAllRefreshTokens(session, userId, _cancel);
            if (error is not null)
            {
                if (error.Kind != "Cancelled")
                {
                    WriteError(GraphErrorRecords.ForUser(error, userId));
                }

                return;
            }

            WriteVerbose($"Graph answered HTTP {outcome!.Status} (request-id: {outcome.RequestId}; client-request-id: {outcome.ClientRequestId}).");
            WriteObject(BooleanResult.Create(outcome.Value));
        }

        #endregion
    }
}
