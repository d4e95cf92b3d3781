using System;
using System.Net;
using System.Net.Http;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Invoke-MgGraphRequest's error for an HTTP status outside 2xx: <c>$_.Exception.Response</c>
    /// is the response (as with the official module), and Graph's code and trace ids are fields.
    /// Every text in it went through the engine's cleaning (no secret, no terminal control).
    /// </summary>
    public sealed class GraphHttpResponseException : Exception
    {
        /// <summary>Creates the exception for one failed response.</summary>
        public GraphHttpResponseException(string message, HttpResponseMessage response)
            : base(message)
        {
            Response = response;
        }

        /// <summary>The response, its content being Graph's error document as cleaned by the module.</summary>
        public HttpResponseMessage Response { get; }

        /// <summary>The HTTP status.</summary>
        public HttpStatusCode StatusCode => Response.StatusCode;

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
