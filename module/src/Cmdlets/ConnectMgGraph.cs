using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;
using Microsoft.Graph.PowerShell.Authentication;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs in to Microsoft Graph for the cmdlets of this module.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "MgGraph", DefaultParameterSetName = UserParameterSet)]
    [Alias("Connect-Graph")]
    public sealed class ConnectMgGraph : PSCmdlet
    {
        #region Parameters

        private const string UserParameterSet = "UserParameterSet";
        private const string AccessTokenParameterSet = "AccessTokenParameterSet";
        private const string AppSecretCredentialParameterSet = "AppSecretCredentialParameterSet";
        private const string AppCertificateParameterSet = "AppCertificateParameterSet";
        private const string EnvironmentVariableParameterSet = "EnvironmentVariableParameterSet";
        private const string IdentityParameterSet = "IdentityParameterSet";

        /// <summary>Delegated permissions to ask for, e.g. User.RevokeSessions.All; signs in as a user with the device code flow.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string[]? Scopes { get; set; }

        /// <summary>Signs in as a user with the device code flow (the only interactive way this module offers).</summary>
        [Parameter(ParameterSetName = UserParameterSet)]
        [Alias("UseDeviceAuthentication", "DeviceCode", "DeviceAuth", "Device")]
        public SwitchParameter UseDeviceCode { get; set; }

        /// <summary>An access token for Microsoft Graph obtained elsewhere, without the "Bearer " prefix; a plain string is accepted too (with a warning).</summary>
        [Parameter(Mandatory = true, ParameterSetName = AccessTokenParameterSet)]
        [PlainTextSecureString]
        public SecureString AccessToken { get; set; } = new();

        /// <summary>The application (client) id of the app registration to sign in as; with -Identity, the client id of a user-assigned managed identity.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AppCertificateParameterSet)]
        [Parameter(ParameterSetName = IdentityParameterSet)]
        [Parameter(ParameterSetName = UserParameterSet)]
        [Alias("AppId", "ApplicationId")]
        [ValidateNotNullOrEmpty]
        public string? ClientId { get; set; }

        /// <summary>The tenant to sign in to: its id (a GUID) or a verified domain such as contoso.onmicrosoft.com.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AppCertificateParameterSet)]
        [Parameter(Mandatory = true, ParameterSetName = AppSecretCredentialParameterSet)]
        [Parameter(ParameterSetName = UserParameterSet)]
        [Alias("Audience", "Tenant")]
        [ValidateNotNullOrEmpty]
        public string? TenantId { get; set; }

        /// <summary>The app's client secret: the user name is the application (client) id, the password the secret's value.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AppSecretCredentialParameterSet)]
        [Alias("SecretCredential")]
        [ValidateNotNull]
        public PSCredential? ClientSecretCredential { get; set; }

        /// <summary>The subject name of a certificate in the CurrentUser or LocalMachine My store (unexpired, newest first).</summary>
        [Parameter(ParameterSetName = AppCertificateParameterSet)]
        [Alias("CertificateSubject", "CertificateName")]
        [ValidateNotNullOrEmpty]
        public string? CertificateSubjectName { get; set; }

        /// <summary>The thumbprint of a certificate in the CurrentUser or LocalMachine My store.</summary>
        [Parameter(ParameterSetName = AppCertificateParameterSet)]
        [ValidateNotNullOrEmpty]
        public string? CertificateThumbprint { get; set; }

        /// <summary>The certificate, with its private key, registered on the app.</summary>
        [Parameter(ParameterSetName = AppCertificateParameterSet)]
        [ValidateNotNull]
        public X509Certificate2? Certificate { get; set; }

        /// <summary>Sends the certificate chain (x5c) with the assertion, for apps that trust certificates by subject name and issuer.</summary>
        [Parameter(ParameterSetName = AppCertificateParameterSet)]
        public SwitchParameter SendCertificateChain { get; set; }

        /// <summary>Signs in with AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (and AZURE_CLIENT_CERTIFICATE_PASSWORD).</summary>
        [Parameter(Mandatory = true, ParameterSetName = EnvironmentVariableParameterSet)]
        public SwitchParameter EnvironmentVariable { get; set; }

        /// <summary>Signs in with the managed identity of the Azure resource this runs on (App Service, Functions, VM...).</summary>
        [Parameter(Mandatory = true, ParameterSetName = IdentityParameterSet)]
        [Alias("ManagedIdentity", "ManagedServiceIdentity", "MSI")]
        public SwitchParameter Identity { get; set; }

        /// <summary>The cloud to use: Global (default), China, USGov, USGovDoD, or one added with Add-MgEnvironment.</summary>
        [Parameter]
        [Alias("EnvironmentName", "NationalCloud")]
        [ValidateNotNullOrEmpty]
        public string Environment { get; set; } = "Global";

        /// <summary>Longest wait for one HTTP exchange, in seconds (default 30); the same setting as Set-MgRequestContext -ClientTimeout.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public double ClientTimeout { get; set; } = 30;

        /// <summary>Process keeps the context in this process only; CurrentUser (the default for delegated sign-in) also keeps it in the user's token cache.</summary>
        [Parameter]
        public ContextScope ContextScope { get; set; }

        /// <summary>Does not print the welcome message.</summary>
        [Parameter]
        public SwitchParameter NoWelcome { get; set; }

        #endregion

        #region Members

        private readonly CancelHandle _cancel = new();

        #endregion

        #region Method Overrides

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (ParameterSetName == AccessTokenParameterSet && PlainTextSecureStringAttribute.WasPlainText(AccessToken))
            {
                WriteWarning("-AccessToken was given as plain text and converted to a SecureString: the token may stay readable in this session's memory and history. Pass a SecureString, e.g. (ConvertTo-SecureString $token -AsPlainText -Force), or a variable read with Read-Host -AsSecureString.");
            }

            // With the official Microsoft.Graph.Authentication installed, its Connect-MgGraph makes
            // the one connection both modules use (ARCHITECTURE.md, "Beside the official SDK").
            if (OfficialGraph.LoadIfInstalled(this))
            {
                WriteVerbose($"The official {OfficialGraph.ModuleName} is loaded: signing in with its Connect-MgGraph, so its cmdlets and this module's share one connection.");
                GraphSessionState.Clear();
                ShareEnvironment();
                OfficialGraph.Forward(this, "Connect-MgGraph");
                return;
            }

            // The timeout applies to the sign-in itself too.
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ClientTimeout)))
            {
                RequestContextInfo requestContext = GraphCore.GetRequestContext();
                requestContext.ClientTimeoutSeconds = (long)Math.Ceiling(ClientTimeout);
                GraphCore.SetRequestContext(requestContext);
            }

            SessionHandle session;
            ContextInfo context;
            try
            {
                (session, context) = SignIn();
            }
            catch (CertificateException failure)
            {
                ThrowTerminatingError(failure.Record);
                return;
            }
            catch (NativeErrorException failure)
            {
                ThrowTerminatingError(GraphErrorRecords.ForOperation(failure.Error, ErrorId(failure.Error), null));
                return;
            }

            GraphSessionState.Replace(session, context);
            WriteVerbose($"Connected to environment '{context.Environment}' with a {context.AuthType} context.");
            if (!NoWelcome)
            {
                WriteInformation(new HostInformationMessage
                {
                    Message = $"Welcome to Microsoft Graph! Connected to '{context.Environment}' via {context.AuthType}. Run Get-MgContext for details; -NoWelcome hides this message.",
                }, new[] { "PSHOST" });
            }
        }

        /// <inheritdoc/>
        protected override void StopProcessing()
        {
            _cancel.Signal();
        }

        #endregion

        #region Private Methods

        /// <summary>
        /// Before handing over: a cloud added with this module's Add-MgEnvironment (kept in this
        /// module's store) is added to the official module's list when that one lacks it, so
        /// -Environment names the same cloud for both.
        /// </summary>
        private void ShareEnvironment()
        {
            if (!MyInvocation.BoundParameters.ContainsKey(nameof(Environment)))
            {
                return;
            }

            GraphCore.EnsureEnvironmentsLoaded();
            EnvironmentInfo? ours = GraphCore.ListEnvironments()
                .FirstOrDefault(environment => !environment.BuiltIn && string.Equals(environment.Name, Environment, StringComparison.OrdinalIgnoreCase));
            if (ours is null)
            {
                return;
            }

            InvokeCommand.InvokeScript(
                $"param($Name, $GraphEndpoint, $AzureADEndpoint) if (-not ({OfficialGraph.ModuleName}\\Get-MgEnvironment | Where-Object Name -eq $Name)) {{ {OfficialGraph.ModuleName}\\Add-MgEnvironment -Name $Name -GraphEndpoint $GraphEndpoint -AzureADEndpoint $AzureADEndpoint | Out-Null }}",
                ours.Name,
                ours.GraphEndpoint,
                ours.AzureADEndpoint);
        }

        private (SessionHandle Session, ContextInfo Context) SignIn()
        {
            // A custom environment added in an earlier process must be known before it is looked up.
            GraphCore.EnsureEnvironmentsLoaded();
            if (ParameterSetName == UserParameterSet)
            {
                return SignInAsUser();
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(ContextScope)) && ContextScope == ContextScope.CurrentUser)
            {
                WriteWarning("Only delegated sign-ins (-Scopes) are kept in the CurrentUser token cache; this context stays in this process.");
            }

            if (ParameterSetName == AccessTokenParameterSet)
            {
                SessionConfig session = new() { Environment = Environment, HostDescription = HostDescription() };
                (SessionHandle Session, ContextInfo Context) opened = GraphCore.OpenWithAccessToken(session, AccessToken);
                if (!opened.Context.ClaimsReadable)
                {
                    WriteWarning("The access token is not a JSON Web Token, so its tenant, app, account, scopes and expiry cannot be shown: it is used as it is, and Graph decides whether it is valid.");
                }

                return opened;
            }

            AppSignInConfig config = new() { Environment = Environment, HostDescription = HostDescription() };
            switch (ParameterSetName)
            {
                case AppSecretCredentialParameterSet:
                    config.ClientId = ClientSecretCredential!.UserName;
                    config.TenantId = TenantId;
                    return GraphCore.OpenWithClientSecret(config, ClientSecretCredential.Password, _cancel);
                case AppCertificateParameterSet:
                    config.ClientId = ClientId;
                    config.TenantId = TenantId;
                    return WithCertificate(config, ChosenCertificate(), SendCertificateChain);
                case IdentityParameterSet:
                    config.ClientId = ClientId;
                    config.IdentityEndpoint = Variable("IDENTITY_ENDPOINT");
                    config.ImdsHost = Variable("AZURE_POD_IDENTITY_AUTHORITY_HOST");
                    using (SecureString? header = Secure(Variable("IDENTITY_HEADER")))
                    {
                        return GraphCore.OpenWithManagedIdentity(config, header, _cancel);
                    }
                default:
                    return FromEnvironmentVariables(config);
            }
        }

        /// <summary>
        /// Delegated sign-in with the device code flow, from the token cache when it can. Entra's
        /// message goes to the host, on the pipeline thread, before the wait: the official module
        /// prints it to the console; a host information record (what Write-Host writes) shows there
        /// just the same, also reaches hosts without a console (VS Code, remoting, job streams) and
        /// transcripts, can be redirected (6>&amp;1) by wrappers, never lands in the output a script
        /// assigns to a variable, and, unlike a warning, does not turn into a prompt under -Debug.
        /// </summary>
        private (SessionHandle Session, ContextInfo Context) SignInAsUser()
        {
            DelegatedSignInConfig config = new()
            {
                Environment = Environment,
                HostDescription = HostDescription(),
                ClientId = ClientId,
                TenantId = TenantId,
                Scopes = Scopes?.ToList() ?? new(),
                ContextScope = MyInvocation.BoundParameters.ContainsKey(nameof(ContextScope)) ? ContextScope.ToString() : null,
            };
            (SessionHandle? cached, CachedSignInAnswer answer) = GraphCore.OpenFromCache(config, _cancel);
            foreach (string note in answer.Notes)
            {
                WriteVerbose(note);
            }

            foreach (string warning in answer.Warnings)
            {
                WriteWarning(warning);
            }

            if (cached is not null && answer.Context is not null)
            {
                WriteVerbose($"Signed in silently from the token cache '{answer.Context.TokenCache?.Path}'.");
                WarnIfUnencrypted(answer.Context);
                return (cached, answer.Context);
            }

            if (!UseDeviceCode)
            {
                WriteVerbose("Interactive browser sign-in is not available in this module: signing in with a device code.");
            }

            (DeviceCodeHandle pending, DeviceCodePrompt prompt) = GraphCore.StartDeviceCode(config, _cancel);
            using (pending)
            {
                WriteInformation(new HostInformationMessage { Message = prompt.Message }, new[] { "PSHOST" });
                (SessionHandle session, ContextInfo context) = GraphCore.CompleteDeviceCode(pending, _cancel);
                foreach (string note in context.TokenCache?.Notes ?? new())
                {
                    WriteVerbose(note);
                }

                foreach (string warning in context.TokenCache?.Warnings ?? new())
                {
                    WriteWarning(warning);
                }

                WarnIfUnencrypted(context);
                return (session, context);
            }
        }

        /// <summary>Once per Connect-MgGraph: says so when the saved sign-in is not encrypted at rest.</summary>
        private void WarnIfUnencrypted(ContextInfo context)
        {
            if (context.TokenCache is { Encrypted: false } cache)
            {
                WriteWarning($"The token cache '{cache.Path}' is not encrypted ({cache.UnencryptedReason ?? "no key store is available"}): it is protected only by its file permissions (readable and writable by you alone). Use -ContextScope Process to keep the sign-in in this process only.");
            }
        }

        private X509Certificate2 ChosenCertificate()
        {
            int given = (Certificate is null ? 0 : 1) + (CertificateThumbprint is null ? 0 : 1) + (CertificateSubjectName is null ? 0 : 1);
            if (given != 1)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("Pass exactly one of -Certificate, -CertificateThumbprint or -CertificateSubjectName with -ClientId and -TenantId."),
                    "CertificateParameterMissing",
                    ErrorCategory.InvalidArgument,
                    null));
            }

            return Certificate ?? SignInCertificates.Find(CertificateThumbprint, CertificateSubjectName);
        }

        private (SessionHandle Session, ContextInfo Context) WithCertificate(AppSignInConfig config, X509Certificate2 certificate, bool sendChain)
        {
            SignInCertificates.Check(certificate);
            config.Certificate = Convert.ToBase64String(certificate.RawData);
            config.SendCertificateChain = sendChain;
            if (sendChain)
            {
                config.CertificateChain = SignInCertificates.Chain(certificate);
            }

            (byte[] key, int length) = SignInCertificates.ExportPrivateKey(certificate);
            try
            {
                return GraphCore.OpenWithCertificate(config, key, length, _cancel);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        /// <summary>The environment variables Azure.Identity's EnvironmentCredential reads.</summary>
        private (SessionHandle Session, ContextInfo Context) FromEnvironmentVariables(AppSignInConfig config)
        {
            string? clientId = Variable("AZURE_CLIENT_ID");
            string? tenantId = Variable("AZURE_TENANT_ID");
            string? secret = Variable("AZURE_CLIENT_SECRET");
            string? certificatePath = Variable("AZURE_CLIENT_CERTIFICATE_PATH");
            string missing = string.Join(", ", new[]
            {
                clientId is null ? "AZURE_CLIENT_ID" : null,
                tenantId is null ? "AZURE_TENANT_ID" : null,
                secret is null && certificatePath is null ? "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH" : null,
            }.Where(name => name is not null));
            if (missing.Length > 0)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"Connect-MgGraph -EnvironmentVariable needs these environment variables, which are not set: {missing}."),
                    "EnvironmentVariableMissing",
                    ErrorCategory.InvalidArgument,
                    null));
            }

            config.ClientId = clientId;
            config.TenantId = tenantId;
            if (secret is not null)
            {
                using SecureString secure = Secure(secret)!;
                return GraphCore.OpenWithClientSecret(config, secure, _cancel);
            }

            using X509Certificate2 certificate = LoadCertificateFile(certificatePath!, Variable("AZURE_CLIENT_CERTIFICATE_PASSWORD"));
            bool sendChain = string.Equals(Variable("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"), "true", StringComparison.OrdinalIgnoreCase)
                || Variable("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") == "1";
            return WithCertificate(config, certificate, sendChain);
        }

        private X509Certificate2 LoadCertificateFile(string path, string? password)
        {
            string fullPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            try
            {
                string start = File.ReadAllText(fullPath);
                if (start.Contains("-----BEGIN", StringComparison.Ordinal))
                {
                    return password is null
                        ? X509Certificate2.CreateFromPemFile(fullPath)
                        : X509Certificate2.CreateFromEncryptedPemFile(fullPath, password);
                }

                return new X509Certificate2(fullPath, password, X509KeyStorageFlags.EphemeralKeySet | X509KeyStorageFlags.Exportable);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"The certificate file '{fullPath}' named by AZURE_CLIENT_CERTIFICATE_PATH cannot be read: {exception.Message}", exception),
                    "CertificateFileUnreadable",
                    ErrorCategory.ReadError,
                    fullPath));
                throw;
            }
        }

        /// <summary>An environment variable's secret as a SecureString, so it reaches Rust like any other secret.</summary>
        private static SecureString? Secure(string? value)
        {
            if (value is null)
            {
                return null;
            }

            SecureString secure = new();
            foreach (char c in value)
            {
                secure.AppendChar(c);
            }

            return secure;
        }

        /// <summary>Reads PowerShell's view of the environment ($env:), which the native library cannot see on every platform.</summary>
        private static string? Variable(string name)
        {
            string? value = System.Environment.GetEnvironmentVariable(name);
            return string.IsNullOrWhiteSpace(value) ? null : value;
        }

        private string ErrorId(NativeError error)
        {
            return error.Kind switch
            {
                "Authentication" when ParameterSetName == AccessTokenParameterSet => "InvalidAccessToken",
                "Authentication" when ParameterSetName == UserParameterSet => "DeviceCodeSignInFailed",
                "Authentication" => "AuthenticationFailed",
                "Network" or "Timeout" when ParameterSetName == IdentityParameterSet => "ManagedIdentityUnavailable",
                "Network" or "Timeout" => "AuthorityUnreachable",
                "Cancelled" => "OperationCancelled",
                "InvalidArgument" => "InvalidArgument",
                "RedirectRefused" => "RedirectRefused",
                "UnexpectedResponse" => "UnexpectedAuthorityResponse",
                _ => "ConnectFailed",
            };
        }

        private string HostDescription()
        {
            object? table = SessionState.PSVariable.GetValue("PSVersionTable");
            object? version = table is IDictionary dictionary ? dictionary["PSVersion"] : null;
            return version is null ? "PowerShell" : $"PowerShell/{version}";
        }

        #endregion
    }
}
