using System.Collections.Generic;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>Settings sent to Rust when a session opens (serialized camelCase).</summary>
    internal sealed class SessionConfig
    {
        public string Environment { get; set; } = "Global";

        public string? HostDescription { get; set; }

        public long ClientTimeoutSeconds { get; set; } = 300;
    }

    /// <summary>The sign-in context as Rust reports it: never a secret.</summary>
    internal sealed class ContextInfo
    {
        public string Environment { get; set; } = string.Empty;

        public string AuthType { get; set; } = string.Empty;

        public string TokenCredentialType { get; set; } = string.Empty;

        public string? TenantId { get; set; }

        public string? ClientId { get; set; }

        public string? Account { get; set; }

        public List<string> Scopes { get; set; } = new();

        public long? ExpiresOn { get; set; }
    }

    /// <summary>An environment as Rust reports it.</summary>
    internal sealed class EnvironmentInfo
    {
        public string Name { get; set; } = string.Empty;

        public string AzureADEndpoint { get; set; } = string.Empty;

        public string GraphEndpoint { get; set; } = string.Empty;

        public bool BuiltIn { get; set; }
    }

    /// <summary>A successful revocation: Graph's boolean and the response's identifiers and headers.</summary>
    internal sealed class RevocationOutcome
    {
        public bool Value { get; set; }

        public int Status { get; set; }

        public string? RequestId { get; set; }

        public string ClientRequestId { get; set; } = string.Empty;

        /// <summary>Response headers as [name, value] pairs, in the order received.</summary>
        public List<string[]> Headers { get; set; } = new();
    }
}
