using System;
using System.Collections.Generic;
using System.Security;
using System.Text.Json;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// What one cmdlet invocation asks of every call it makes: headers, proxy, trace. Built once
    /// per invocation (per record only when -Headers is given) and encoded for Rust right away,
    /// so a call only pins bytes that are already there. Not to be changed after construction.
    /// </summary>
    internal sealed class CallOptions
    {
        internal CallOptions(RequestOptionsJson json, SecureString? proxyPassword)
        {
            Json = json;
            // A password without a proxy has nowhere to go; leaving it out spares every call
            // copying the secret out of its SecureString.
            ProxyPassword = json.Proxy is null ? null : proxyPassword;
            // All defaults travel as nothing at all: Rust uses its defaults without parsing.
            Encoded = json.Headers.Count == 0 && json.Proxy is null && !json.Trace
                ? Array.Empty<byte>()
                : JsonSerializer.SerializeToUtf8Bytes(json, NativeResult.JsonOptions);
        }

        /// <summary>The plain part.</summary>
        internal RequestOptionsJson Json { get; }

        /// <summary>The plain part as UTF-8 JSON for Rust; empty when everything is a default.</summary>
        internal byte[] Encoded { get; }

        /// <summary>The proxy password, handed to Rust as wiped bytes, never as JSON.</summary>
        internal SecureString? ProxyPassword { get; }

        /// <summary>The same options with these extra request headers.</summary>
        internal CallOptions WithHeaders(List<string[]> headers) =>
            new(new RequestOptionsJson { Headers = headers, Proxy = Json.Proxy, Trace = Json.Trace }, ProxyPassword);
    }
}
