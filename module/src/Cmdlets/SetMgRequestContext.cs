using System.Management.Automation;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Changes the retry and timeout settings of Graph calls in this process.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "MgRequestContext", SupportsShouldProcess = true)]
    [OutputType(typeof(RequestContext))]
    public sealed class SetMgRequestContext : PSCmdlet
    {
        /// <summary>Retries of a request that failed with 503, 504 or a broken connection (0 to 10; default 3).</summary>
        [Parameter]
        [ValidateRange(0, 10)]
        public int MaxRetry { get; set; }

        /// <summary>Base delay in seconds of the exponential backoff when Graph sends no Retry-After (default 3).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public int RetryDelay { get; set; }

        /// <summary>Longest total wait in seconds before giving up on one request (default 600).</summary>
        [Parameter]
        [ValidateRange(0, 86400)]
        public int RetriesTimeLimit { get; set; }

        /// <summary>Longest wait in seconds for one HTTP exchange (default 300).</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int ClientTimeout { get; set; }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            RequestContextInfo context = GraphCore.GetRequestContext();
            if (MyInvocation.BoundParameters.ContainsKey(nameof(MaxRetry)))
            {
                context.MaxRetry = MaxRetry;
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(RetryDelay)))
            {
                context.RetryDelaySeconds = RetryDelay;
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(RetriesTimeLimit)))
            {
                context.RetriesTimeLimitSeconds = RetriesTimeLimit;
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(ClientTimeout)))
            {
                context.ClientTimeoutSeconds = ClientTimeout;
            }

            if (!ShouldProcess("request context of this process", "Set retry and timeout settings"))
            {
                return;
            }

            try
            {
                WriteObject(new RequestContext(GraphCore.SetRequestContext(context)));
            }
            catch (NativeErrorException failure)
            {
                WriteError(GraphErrorRecords.ForOperation(failure.Error, "InvalidRequestContext", context));
            }
        }
    }
}
