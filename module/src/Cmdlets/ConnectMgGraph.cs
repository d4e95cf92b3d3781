using System;
using System.Collections;
using System.Management.Automation;
using System.Security;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Signs in to Microsoft Graph for the cmdlets of this module.</para>
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "MgGraph", DefaultParameterSetName = AccessTokenParameterSet)]
    [Alias("Connect-Graph")]
    public sealed class ConnectMgGraph : PSCmdlet
    {
        #region Parameters

        private const string AccessTokenParameterSet = "AccessTokenParameterSet";

        /// <summary>An access token for Microsoft Graph obtained elsewhere, without the "Bearer " prefix.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AccessTokenParameterSet)]
        public SecureString AccessToken { get; set; } = new();

        /// <summary>The cloud to use: Global (default), China, USGov, USGovDoD, or one added with Add-MgEnvironment.</summary>
        [Parameter]
        [Alias("EnvironmentName", "NationalCloud")]
        [ValidateNotNullOrEmpty]
        public string Environment { get; set; } = "Global";

        /// <summary>Longest wait for one HTTP exchange, in seconds (default 300); the same setting as Set-MgRequestContext -ClientTimeout.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public double ClientTimeout { get; set; } = 300;

        /// <summary>Does not print the welcome message.</summary>
        [Parameter]
        public SwitchParameter NoWelcome { get; set; }

        #endregion

        #region Method Overrides

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            SessionConfig config = new()
            {
                Environment = Environment,
                HostDescription = HostDescription(),
            };

            SessionHandle session;
            ContextInfo context;
            try
            {
                (session, context) = GraphCore.OpenWithAccessToken(config, AccessToken);
            }
            catch (NativeErrorException failure)
            {
                string errorId = failure.Error.Kind == "Authentication" ? "InvalidAccessToken" : "ConnectFailed";
                ThrowTerminatingError(GraphErrorRecords.ForOperation(failure.Error, errorId, null));
                return;
            }

            GraphSessionState.Replace(session, context);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ClientTimeout)))
            {
                RequestContextInfo requestContext = GraphCore.GetRequestContext();
                requestContext.ClientTimeoutSeconds = (long)Math.Ceiling(ClientTimeout);
                GraphCore.SetRequestContext(requestContext);
            }

            WriteVerbose($"Connected to environment '{context.Environment}' with a {context.AuthType} context.");
            if (!NoWelcome)
            {
                WriteInformation(new HostInformationMessage
                {
                    Message = $"Welcome to Microsoft Graph! Connected to '{context.Environment}' via {context.AuthType}. Run Get-MgContext for details; -NoWelcome hides this message.",
                }, new[] { "PSHOST" });
            }
        }

        #endregion

        #region Private Methods

        private string HostDescription()
        {
            object? table = SessionState.PSVariable.GetValue("PSVersionTable");
            object? version = table is IDictionary dictionary ? dictionary["PSVersion"] : null;
            return version is null ? "PowerShell" : $"PowerShell/{version}";
        }

        #endregion
    }
}
