using System.Security;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>What one cmdlet invocation asks of every call it makes: headers, proxy, trace.</summary>
    internal sealed class CallOptions
    {
        internal CallOptions(RequestOptionsJson json, SecureString? proxyPassword)
        {
            Json = json;
            ProxyPassword = proxyPassword;
        }

        /// <summary>The plain part, serialized to JSON for Rust.</summary>
        internal RequestOptionsJson Json { get; }

        /// <summary>The proxy password, handed to Rust as wiped bytes, never as JSON.</summary>
        internal SecureString? ProxyPassword { get; }
    }
}
