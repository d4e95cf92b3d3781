using System;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.PowerShell.Authentication
{
    /// <summary>Retry and timeout settings of every Graph call in this process.</summary>
    public sealed class RequestContext
    {
        internal RequestContext(RequestContextInfo context)
        {
            MaxRetry = (int)context.MaxRetry;
            RetryDelay = TimeSpan.FromSeconds(context.RetryDelaySeconds);
            RetriesTimeLimit = TimeSpan.FromSeconds(context.RetriesTimeLimitSeconds);
            ClientTimeout = TimeSpan.FromSeconds(context.ClientTimeoutSeconds);
        }

        /// <summary>Retries of a request that failed with 503, 504 or a broken connection (throttling waits do not count).</summary>
        public int MaxRetry { get; }

        /// <summary>Base delay of the exponential backoff when Graph sends no Retry-After.</summary>
        public TimeSpan RetryDelay { get; }

        /// <summary>Longest total wait before giving up on one request.</summary>
        public TimeSpan RetriesTimeLimit { get; }

        /// <summary>Longest wait for one HTTP exchange.</summary>
        public TimeSpan ClientTimeout { get; }
    }
}
