using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using Microsoft.Graph.Beta.PowerShell.Models;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// The revocation cmdlets' shared body: both sign a user out everywhere and differ only in the
    /// Graph action they send and in their parameter set names, which PowerShell reads from the
    /// attributes of the derived class's <c>UserId</c> and <c>InputObject</c>.
    /// </summary>
    public abstract class RevocationCmdlet : PSCmdlet, IDisposable
    {
        #region Parameters

        /// <summary>Name of a global variable that receives the response headers on success.</summary>
        [Parameter]
        [Alias("RHV")]
        public string? ResponseHeadersVariable { get; set; }

        /// <summary>Waits for a .NET debugger to attach before doing anything.</summary>
        [Parameter(DontShow = true)]
        public SwitchParameter Break { get; set; }

        /// <summary>Extra request headers.</summary>
        [Parameter(ValueFromPipeline = true)]
        public IDictionary? Headers { get; set; }

        /// <summary>Pipeline steps that run after the prepended ones, just before the request is sent.</summary>
        [Parameter]
        public SendAsyncStep[]? HttpPipelineAppend { get; set; }

        /// <summary>Pipeline steps that run first.</summary>
        [Parameter]
        public SendAsyncStep[]? HttpPipelinePrepend { get; set; }

        /// <summary>The proxy server to send the request through.</summary>
        [Parameter]
        public Uri? Proxy { get; set; }

        /// <summary>Credentials for the proxy server (basic authentication).</summary>
        [Parameter]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        /// <summary>Use the current user's default credentials for the proxy.</summary>
        [Parameter]
        public SwitchParameter ProxyUseDefaultCredentials { get; set; }

        /// <summary>
        /// After revoking, reads each user back and outputs True only when Graph shows sessions valid
        /// only from the revocation on; otherwise writes a RevocationNotConfirmed error for that user.
        /// Needs User.Read.All in addition to User.RevokeSessions.All.
        /// </summary>
        [Parameter]
        public SwitchParameter Verify { get; set; }

        /// <summary>
        /// A JSON Lines file that records every user's outcome. A run given an existing journal skips the
        /// users it records as revoked or verified and retries the failed ones.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        #endregion

        #region What a derived cmdlet says

        /// <summary>The Graph action this cmdlet sends.</summary>
        private protected abstract RevocationAction Action { get; }

        /// <summary>The -UserId the derived cmdlet bound.</summary>
        private protected abstract string BoundUserId { get; }

        /// <summary>The -InputObject the derived cmdlet bound.</summary>
        private protected abstract IUsersActionsIdentity? BoundInputObject { get; }

        /// <summary>Whether the identity parameter set was bound.</summary>
        private protected abstract bool ViaIdentity { get; }

        #endregion

        #region Members

        private readonly CancelHandle _cancel = new();
        private readonly CancellationTokenSource _stopping = new();
        private HttpPipelineRunner _pipeline = HttpPipelineRunner.None;
        private readonly object _stopLock = new();
        private BulkRevocation? _bulk;
        private bool _disposed;

        // Proxy and trace, encoded once per invocation; -Headers adds to it per record.
        private CallOptions? _options;
        private bool _headersFromCommandLine;
        private bool _trace;
        private string? _journalPath;

        #endregion

        #region Method Overrides

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            // Parameters bound here came from the command line; -Headers bound later came from
            // the pipeline, where it is the very object that also became the identity.
            _headersFromCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Headers));
            _pipeline = HttpPipelineRunner.Create(HttpPipelinePrepend, HttpPipelineAppend);
            // A script may hold the preference as a string ($DebugPreference = 'Continue' in a child scope).
            _trace = MyInvocation.BoundParameters.ContainsKey("Debug")
                || (LanguagePrimitives.TryConvertTo(GetVariableValue("DebugPreference"), out ActionPreference debug)
                    && debug != ActionPreference.SilentlyContinue);
            _options = new CallOptions(
                new RequestOptionsJson
                {
                    Proxy = Proxy is null ? null : new ProxyJson { Url = Proxy.OriginalString, Username = ProxyCredential?.UserName },
                    Trace = _trace,
                },
                ProxyCredential?.Password);
            if (ProxyUseDefaultCredentials)
            {
                WriteWarning("-ProxyUseDefaultCredentials: integrated (NTLM/Kerberos) proxy authentication is not supported, so no credentials are sent to the proxy; use -ProxyCredential for a proxy that needs them.");
            }

            if (Break)
            {
                DebuggerWait.WaitForDebugger(this, _stopping.Token);
            }

            if ((Verify || JournalPath is not null) && (!_pipeline.IsEmpty || !string.IsNullOrEmpty(ResponseHeadersVariable)))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("-Verify and -JournalPath cannot be combined with -HttpPipelinePrepend, -HttpPipelineAppend or -ResponseHeadersVariable: run them in separate commands."),
                    "VerifyOrJournalWithPipelineSteps",
                    ErrorCategory.InvalidArgument,
                    null));
            }

            if (JournalPath is not null)
            {
                // Resolved once, against the current location, as PowerShell paths are.
                _journalPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(JournalPath);
            }
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            string userId;
            IDictionary? headers;
            if (ViaIdentity)
            {
                if (BoundInputObject?.UserId is not string identityUserId)
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException("InputObject has null value for InputObject.UserId"),
                        string.Empty,
                        ErrorCategory.InvalidArgument,
                        BoundInputObject));
                    return;
                }

                userId = identityUserId;
                headers = _headersFromCommandLine ? Headers : null;
            }
            else
            {
                userId = BoundUserId;
                headers = Headers;
            }

            Revoke(userId, headers);
        }

        /// <inheritdoc/>
        protected override void EndProcessing()
        {
            _bulk?.Complete();
        }

        /// <summary>Ctrl+C: stops the requests in flight; PowerShell runs this on another thread.</summary>
        protected override void StopProcessing()
        {
            // PowerShell does not make Dispose wait for this: once disposed, there is nothing to stop.
            lock (_stopLock)
            {
                if (_disposed)
                {
                    return;
                }

                _stopping.Cancel();
                _cancel.Signal();
                _bulk?.Cancel();
            }
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            lock (_stopLock)
            {
                _disposed = true;
            }

            // A bulk run disposed before it completed was stopped (Ctrl+C: the pipeline thread
            // may get here before StopProcessing has run) or broken off by an error: either way
            // nothing more is sent, and the responder gets the count of what was and was not done.
            if (_bulk is { Completed: false } bulk)
            {
                bulk.ReportStop();
            }

            _bulk?.Dispose();
            _cancel.Dispose();
            _stopping.Dispose();
        }

        #endregion

        #region Private Methods

        private void Revoke(string userId, IDictionary? headers)
        {
            if (!ShouldProcess($"Call remote 'POST /users/{userId}/{Action.WireName()}' operation"))
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
                return;
            }

            CallOptions invocationOptions = _options!;
            // Converted per record: a piped dictionary may differ each time, and a plain call has none.
            List<string[]>? headerPairs = null;
            if (headers is not null)
            {
                headerPairs = HeaderConverter.Convert(headers, out string? headerProblem);
                if (headerProblem is not null)
                {
                    WriteError(new ErrorRecord(new ArgumentException(headerProblem), "InvalidHeader", ErrorCategory.InvalidArgument, headers));
                    return;
                }
            }

            WriteVerbose($"{Action.Describe()} of user '{userId}'.");
            if (UsesBulkEngine)
            {
                // Piped users travel concurrently and in JSON batches; outcomes come back in order.
                _bulk ??= StartBulk(session, invocationOptions);
                _bulk.Submit(userId, headerPairs ?? new List<string[]>());
                return;
            }

            CallOptions options = headerPairs is null || headerPairs.Count == 0 ? invocationOptions : invocationOptions.WithHeaders(headerPairs);
            (RevocationOutcome? outcome, NativeError? error) = Execute(session, userId, options);
            if ((outcome?.Exchange ?? error?.Exchange) is Exchange exchange)
            {
                WriteDebug(DebugTrace.Format(exchange));
            }

            if (error is not null)
            {
                if (error.Kind != "Cancelled")
                {
                    WriteError(GraphErrorRecords.ForUser(error, userId));
                }

                return;
            }

            WriteVerbose($"Graph answered HTTP {outcome!.Status} for '{userId}' (request-id: {outcome.RequestId}; client-request-id: {outcome.ClientRequestId}).");
            WriteObject(BooleanResult.Create(outcome.Value));
            if (!string.IsNullOrEmpty(ResponseHeadersVariable))
            {
                SessionState.PSVariable.Set($"global:{ResponseHeadersVariable}", ResponseHeaders.ToDictionary(outcome.Headers));
            }
        }

        /// <summary>
        /// Piped users go to the bulk engine. A single call without pipeline input goes straight
        /// to Graph (no hand-off between threads), and so do calls whose pipeline steps must see
        /// each real request, whose -ResponseHeadersVariable needs each real response, or whose
        /// -Debug shows each exchange. -Verify and -JournalPath always use the engine, which reads
        /// back and journals (pipeline steps and -ResponseHeadersVariable are refused with them;
        /// -Debug then shows no exchanges).
        /// </summary>
        private bool UsesBulkEngine =>
            VerifiesOrJournals
            || (MyInvocation.ExpectingInput && _pipeline.IsEmpty && string.IsNullOrEmpty(ResponseHeadersVariable) && !_trace);

        private bool VerifiesOrJournals => Verify || _journalPath is not null;

        private BulkRevocation StartBulk(SessionHandle session, CallOptions invocationOptions)
        {
            CallOptions options = new(new RequestOptionsJson { Proxy = invocationOptions.Json.Proxy }, invocationOptions.ProxyPassword);
            BulkRunSettings settings = new() { Action = Action.WireName(), Verify = Verify, JournalPath = _journalPath };
            try
            {
                return new BulkRevocation(this, session, options, settings, Action.Describe());
            }
            catch (NativeErrorException failed)
            {
                ThrowTerminatingError(GraphErrorRecords.ForOperation(failed.Error, GraphErrorRecords.ErrorId(failed.Error), JournalPath));
                throw;
            }
        }

        private (RevocationOutcome? Outcome, NativeError? Error) Execute(SessionHandle session, string userId, CallOptions options)
        {
            if (_pipeline.IsEmpty)
            {
                return GraphCore.Revoke(session, Action, userId, options, _cancel, withResponseHeaders: !string.IsNullOrEmpty(ResponseHeadersVariable));
            }

            (PreparedRequest? prepared, NativeError? error) = GraphCore.PrepareRevocation(session, Action, userId, options);
            return prepared is null ? (null, error) : _pipeline.Run(session, prepared, options, _cancel, _stopping);
        }

        #endregion
    }
}
