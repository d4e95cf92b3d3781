using System.Collections.Generic;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>Settings sent to Rust when a session opens (serialized camelCase).</summary>
    internal sealed class SessionConfig
    {
        public string Environment { get; set; } = "Global";

        public string? HostDescription { get; set; }

        /// <summary>The Graph endpoint of a connection handed over by the official module (its environment may be unknown here).</summary>
        public string? GraphEndpoint { get; set; }
    }

    /// <summary>Settings sent to Rust for app-only sign-in (serialized camelCase); secrets travel separately.</summary>
    internal sealed class AppSignInConfig
    {
        public string Environment { get; set; } = "Global";

        public string? HostDescription { get; set; }

        /// <summary>Application (client) id, for app-only sign-in.</summary>
        public string? ClientId { get; set; }

        /// <summary>Tenant id or domain, for app-only sign-in.</summary>
        public string? TenantId { get; set; }

        /// <summary>Certificate sign-in: the certificate's DER, base64.</summary>
        public string? Certificate { get; set; }

        /// <summary>Certificate sign-in: the issuers' DER, base64, leaf excluded.</summary>
        public List<string> CertificateChain { get; set; } = new();

        /// <summary>Certificate sign-in: send the chain in the assertion (x5c).</summary>
        public bool SendCertificateChain { get; set; }

        /// <summary>Managed identity: IDENTITY_ENDPOINT (App Service and friends).</summary>
        public string? IdentityEndpoint { get; set; }

        /// <summary>Managed identity: AZURE_POD_IDENTITY_AUTHORITY_HOST, the base URL of IMDS.</summary>
        public string? ImdsHost { get; set; }
    }

    /// <summary>Settings sent to Rust for delegated sign-in (device code, token cache); serialized camelCase.</summary>
    internal sealed class DelegatedSignInConfig
    {
        public string Environment { get; set; } = "Global";

        public string? HostDescription { get; set; }

        /// <summary>The public client app; null means Microsoft Graph Command Line Tools.</summary>
        public string? ClientId { get; set; }

        /// <summary>Tenant id or domain; null means common.</summary>
        public string? TenantId { get; set; }

        public List<string> Scopes { get; set; } = new();

        /// <summary>Process or CurrentUser; null means CurrentUser.</summary>
        public string? ContextScope { get; set; }

        public CacheSettings Cache { get; set; } = CacheSettings.FromEnvironment();
    }

    /// <summary>
    /// Where the module keeps its per-user files, from PowerShell's view of the environment
    /// ($env:GRAPH_BETA_DATA_DIR, $env:GRAPH_BETA_TOKEN_CACHE_KEYSTORE), which native code does
    /// not see on every platform.
    /// </summary>
    internal sealed class CacheSettings
    {
        public string? DataDir { get; set; }

        public string? KeyStore { get; set; }

        internal static CacheSettings FromEnvironment() => new()
        {
            DataDir = System.Environment.GetEnvironmentVariable("GRAPH_BETA_DATA_DIR"),
            KeyStore = System.Environment.GetEnvironmentVariable("GRAPH_BETA_TOKEN_CACHE_KEYSTORE"),
        };
    }

    /// <summary>What Entra asks the user to do to finish a device code sign-in.</summary>
    internal sealed class DeviceCodePrompt
    {
        public string Message { get; set; } = string.Empty;

        public string UserCode { get; set; } = string.Empty;

        public string VerificationUri { get; set; } = string.Empty;

        public long ExpiresIn { get; set; }
    }

    /// <summary>Retry and timeout settings of the process (serialized camelCase).</summary>
    internal sealed class RequestContextInfo
    {
        public long MaxRetry { get; set; }

        public long RetryDelaySeconds { get; set; }

        public long RetriesTimeLimitSeconds { get; set; }

        public long ClientTimeoutSeconds { get; set; }
    }

    /// <summary>The sign-in context as Rust reports it: never a secret.</summary>
    internal sealed class ContextInfo
    {
        public string Environment { get; set; } = string.Empty;

        public string AuthType { get; set; } = string.Empty;

        public string TokenCredentialType { get; set; } = string.Empty;

        public string ContextScope { get; set; } = "Process";

        public string? CertificateThumbprint { get; set; }

        public string? ManagedIdentityId { get; set; }

        public string? TenantId { get; set; }

        public string? ClientId { get; set; }

        public string? Account { get; set; }

        public List<string> Scopes { get; set; } = new();

        public long? ExpiresOn { get; set; }

        /// <summary>False when the token is not a JWT: its claims could not be read.</summary>
        public bool ClaimsReadable { get; set; } = true;

        /// <summary>CurrentUser scope: the token cache and how it is protected.</summary>
        public TokenCacheStatus? TokenCache { get; set; }
    }

    /// <summary>Where a CurrentUser sign-in is saved and whether the file is encrypted.</summary>
    internal sealed class TokenCacheStatus
    {
        public string Path { get; set; } = string.Empty;

        public bool Encrypted { get; set; }

        public string? UnencryptedReason { get; set; }

        public List<string> Notes { get; set; } = new();

        public List<string> Warnings { get; set; } = new();
    }

    /// <summary>The answer of a silent sign-in from the token cache.</summary>
    internal sealed class CachedSignInAnswer
    {
        public ContextInfo? Context { get; set; }

        public List<string> Notes { get; set; } = new();

        public List<string> Warnings { get; set; } = new();
    }

    /// <summary>An added or removed environment, and why the change could not be saved, if so.</summary>
    internal sealed class EnvironmentChange
    {
        public EnvironmentInfo Environment { get; set; } = new();

        public string? Warning { get; set; }
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

        /// <summary>The redacted exchange, when a trace was asked for (-Debug).</summary>
        public Exchange? Exchange { get; set; }
    }

    /// <summary>Per-call options sent to Rust as JSON (the proxy password travels separately).</summary>
    internal sealed class RequestOptionsJson
    {
        public List<string[]> Headers { get; set; } = new();

        public ProxyJson? Proxy { get; set; }

        public bool Trace { get; set; }
    }

    /// <summary>An explicit proxy; its password is passed as separate bytes.</summary>
    internal sealed class ProxyJson
    {
        public string Url { get; set; } = string.Empty;

        public string? Username { get; set; }
    }

    /// <summary>A request as Rust prepared it (never with the credential).</summary>
    internal sealed class PreparedRequest
    {
        public string Method { get; set; } = "POST";

        public string Url { get; set; } = string.Empty;

        public List<string[]> Headers { get; set; } = new();

        public string Body { get; set; } = string.Empty;
    }

    /// <summary>A response as Rust received it, or as a pipeline step produced it.</summary>
    internal sealed class RawResponse
    {
        public int Status { get; set; }

        public List<string[]> Headers { get; set; } = new();

        public string Body { get; set; } = string.Empty;

        public Exchange? Exchange { get; set; }
    }

    /// <summary>A redacted request/response pair for -Debug.</summary>
    internal sealed class Exchange
    {
        public string Method { get; set; } = string.Empty;

        public string Url { get; set; } = string.Empty;

        public List<string[]> RequestHeaders { get; set; } = new();

        public int Status { get; set; }

        public List<string[]> ResponseHeaders { get; set; } = new();

        public string ResponseBody { get; set; } = string.Empty;

        public long ElapsedMs { get; set; }
    }
}
