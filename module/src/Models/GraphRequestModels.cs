using System;
using System.Collections.Generic;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Models
{
    /// <summary>The HTTP methods Invoke-MgGraphRequest sends, as the official module names them.</summary>
    public enum GraphRequestMethod
    {
        /// <summary>Reads a resource.</summary>
        GET,

        /// <summary>Creates a resource or runs an action.</summary>
        POST,

        /// <summary>Replaces a resource or uploads content.</summary>
        PUT,

        /// <summary>Updates some properties of a resource.</summary>
        PATCH,

        /// <summary>Deletes a resource.</summary>
        DELETE,
    }

    /// <summary>What Invoke-MgGraphRequest writes for a JSON answer, as the official module names it.</summary>
    public enum OutputType
    {
        /// <summary>Case-insensitive hashtables (the default).</summary>
        HashTable,

        /// <summary>PSCustomObjects.</summary>
        PSObject,

        /// <summary>The whole response as a System.Net.Http.HttpResponseMessage.</summary>
        HttpResponseMessage,

        /// <summary>The body as a JSON string.</summary>
        Json,
    }

    /// <summary>
    /// Headers and a user agent kept between Invoke-MgGraphRequest calls: -SessionVariable creates
    /// one, -GraphRequestSession reuses it. The same shape as the official module's.
    /// </summary>
    public sealed class GraphRequestSession
    {
        /// <summary>Request headers sent with every call of the session (-Headers adds to them).</summary>
        public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Content headers (Content-Type and the like) of the last call.</summary>
        public Dictionary<string, string> ContentHeaders { get; set; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>The User-Agent sent; null for the module's own.</summary>
        public string? UserAgent { get; set; }
    }

    /// <summary>What the shim asks Rust to send (the body travels as separate bytes).</summary>
    internal sealed class GraphRequestJson
    {
        public string Method { get; set; } = "GET";

        public string Uri { get; set; } = string.Empty;

        public List<string[]> Headers { get; set; } = new();
    }

    /// <summary>Graph's answer to an Invoke-MgGraphRequest call, whatever its status.</summary>
    internal sealed class GraphAnswer
    {
        /// <summary>The URL the request went to, after resolution.</summary>
        public string Url { get; set; } = string.Empty;

        public int Status { get; set; }

        /// <summary>Response headers as [name, value] pairs, in the order received.</summary>
        public List<string[]> Headers { get; set; } = new();

        /// <summary>The body exactly as received (base64 in the JSON, bytes here).</summary>
        public byte[] Body { get; set; } = Array.Empty<byte>();

        public string ClientRequestId { get; set; } = string.Empty;

        /// <summary>Graph's error, cleaned, when the status is not 2xx.</summary>
        public NativeError? Error { get; set; }

        public Exchange? Exchange { get; set; }
    }
}
