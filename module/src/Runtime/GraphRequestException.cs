using System;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// A failed Graph call, with everything needed to trace it: scripts can read the fields
    /// from <c>$_.Exception</c> instead of parsing the message.
    /// </summary>
    public sealed class GraphRequestException : Exception
    {
        /// <summary>Creates the exception; the message should already name user, code and ids.</summary>
        public GraphRequestException(string message, string kind)
            : base(message)
        {
            Kind = kind;
        }

        /// <summary>The failure class reported by the engine (Graph, Network, Timeout, InvalidArgument, ...).</summary>
        public string Kind { get; }

        /// <summary>The user the call was for.</summary>
        public string? UserId { get; init; }

        /// <summary>HTTP status Graph answered with, if it answered.</summary>
        public int? StatusCode { get; init; }

        /// <summary>Graph's error code, such as Request_ResourceNotFound.</summary>
        public string? Code { get; init; }

        /// <summary>Graph's request-id for the failed request.</summary>
        public string? RequestId { get; init; }

        /// <summary>The client-request-id this module sent.</summary>
        public string? ClientRequestId { get; init; }

        /// <summary>The service time of the failure as Graph reported it (UTC).</summary>
        public string? Date { get; init; }
    }
}
