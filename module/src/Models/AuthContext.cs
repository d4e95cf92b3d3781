using System;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.PowerShell.Authentication
{
    /// <summary>What Get-MgContext shows about the current sign-in; it never holds a secret.</summary>
    public sealed class AuthContext
    {
        internal AuthContext(ContextInfo context)
        {
            ClientId = context.ClientId;
            TenantId = context.TenantId;
            Scopes = context.Scopes.ToArray();
            AuthType = context.AuthType;
            TokenCredentialType = context.TokenCredentialType;
            Account = context.Account;
            Environment = context.Environment;
            ContextScope = context.ContextScope;
            CertificateThumbprint = context.CertificateThumbprint;
            ManagedIdentityId = context.ManagedIdentityId;
            ExpiresOn = context.ExpiresOn is long seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
        }

        /// <summary>The application (client) id the token was issued to.</summary>
        public string? ClientId { get; }

        /// <summary>The tenant the token was issued by.</summary>
        public string? TenantId { get; }

        /// <summary>Delegated scopes or application roles of the token.</summary>
        public string[] Scopes { get; }

        /// <summary>How the context was created.</summary>
        public string AuthType { get; }

        /// <summary>The kind of credential behind the context.</summary>
        public string TokenCredentialType { get; }

        /// <summary>The signed-in user, for delegated sign-in.</summary>
        public string? Account { get; }

        /// <summary>Where the context lives: Process (this process only).</summary>
        public string ContextScope { get; }

        /// <summary>The thumbprint of the certificate used to sign in, for certificate sign-in.</summary>
        public string? CertificateThumbprint { get; }

        /// <summary>The client id of the user-assigned managed identity, for -Identity -ClientId.</summary>
        public string? ManagedIdentityId { get; }

        /// <summary>The cloud the context belongs to.</summary>
        public string Environment { get; }

        /// <summary>When the current access token expires.</summary>
        public DateTimeOffset? ExpiresOn { get; }
    }

    /// <summary>A cloud as Get-MgEnvironment shows it.</summary>
    public sealed class GraphEnvironment
    {
        internal GraphEnvironment(EnvironmentInfo environment)
        {
            Name = environment.Name;
            AzureADEndpoint = environment.AzureADEndpoint;
            GraphEndpoint = environment.GraphEndpoint;
            Type = environment.BuiltIn ? "Built-in" : "User-defined";
        }

        /// <summary>The name given to Connect-MgGraph -Environment.</summary>
        public string Name { get; }

        /// <summary>The Entra ID authority.</summary>
        public string AzureADEndpoint { get; }

        /// <summary>The Microsoft Graph endpoint.</summary>
        public string GraphEndpoint { get; }

        /// <summary>Built-in or User-defined.</summary>
        public string Type { get; }
    }
}
