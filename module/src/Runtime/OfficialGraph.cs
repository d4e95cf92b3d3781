using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// The official Microsoft.Graph.Authentication module's connection, bound late: found among the
    /// assemblies already loaded in the process (never loaded from here), read through its public
    /// static entry points only, and every way that can fail turned into one ErrorRecord that says
    /// what to do. See ARCHITECTURE.md, "Beside the official SDK".
    /// </summary>
    internal static class OfficialGraph
    {
        internal const string ModuleName = "Microsoft.Graph.Authentication";

        /// <summary>The official version whose internals this module was built and tested against.</summary>
        internal const string TestedVersion = "2.25.0";

        private const string CoreAssemblyName = "Microsoft.Graph.Authentication.Core";
        private const string SessionTypeName = "Microsoft.Graph.PowerShell.Authentication.GraphSession";
        private const string HelpersTypeName = "Microsoft.Graph.PowerShell.Authentication.Core.Utilities.AuthenticationHelpers";

        /// <summary>
        /// The official token provider refuses hosts outside Microsoft Graph's own list (it returns no
        /// token), whatever the environment: the token's audience comes from the connection's scopes,
        /// and this URI only passes that check. Where the token goes is decided by the engine.
        /// </summary>
        private static readonly Uri s_providerCheckUri = new("https://graph.microsoft.com/");

        private static readonly TimeSpan s_tokenTimeout = TimeSpan.FromMinutes(2);

        /// <summary>What the official module is connected to.</summary>
        internal sealed class Connection
        {
            internal Connection(string version, string environment, string graphEndpoint, object authContext, Assembly core)
            {
                Version = version;
                Environment = environment;
                GraphEndpoint = graphEndpoint;
                AuthContext = authContext;
                Core = core;
            }

            internal string Version { get; }

            internal string Environment { get; }

            internal string GraphEndpoint { get; }

            internal object AuthContext { get; }

            internal Assembly Core { get; }
        }

        /// <summary>Whether the official module's assemblies are loaded in this process (by any load context).</summary>
        internal static bool IsLoaded => CoreAssembly() is not null;

        /// <summary>The official connection; null when that module is not loaded or not connected.</summary>
        internal static Connection? Current()
        {
            Assembly? core = CoreAssembly();
            if (core is null)
            {
                return null;
            }

            string version = VersionOf(core);
            try
            {
                Type session = Required(core.GetType(SessionTypeName), SessionTypeName);
                if (StaticProperty(session, "Exists") is not true)
                {
                    return null;
                }

                object instance = Required(StaticProperty(session, "Instance"), "GraphSession.Instance");
                object? authContext = InstanceProperty(instance, "AuthContext");
                if (authContext is null)
                {
                    return null;
                }

                object? environment = InstanceProperty(instance, "Environment");
                string graphEndpoint = environment is null
                    ? "https://graph.microsoft.com"
                    : Required(InstanceProperty(environment, "GraphEndpoint") as string, "GraphSession.Instance.Environment.GraphEndpoint");
                string name = InstanceProperty(authContext, "Environment") as string ?? "Global";
                return new Connection(version, name, graphEndpoint, authContext, core);
            }
            catch (Exception exception) when (exception is not OfficialGraphException)
            {
                throw Unreadable(version, exception);
            }
        }

        /// <summary>
        /// A Graph access token from the official connection, through its public
        /// AuthenticationHelpers.GetAuthenticationProviderAsync(IAuthContext) and the provider's
        /// GetAuthorizationTokenAsync: the same path its own cmdlets take, so it renews the token
        /// (or hands back the one given to -AccessToken) exactly as they do.
        /// </summary>
        internal static string Token(Connection connection)
        {
            MethodInfo getProvider;
            try
            {
                Type helpers = Required(connection.Core.GetType(HelpersTypeName), HelpersTypeName);
                getProvider = Required(
                    helpers.GetMethods(BindingFlags.Public | BindingFlags.Static).SingleOrDefault(method => method.Name == "GetAuthenticationProviderAsync" && method.GetParameters().Length == 1),
                    "AuthenticationHelpers.GetAuthenticationProviderAsync(IAuthContext)");
            }
            catch (Exception exception) when (exception is not OfficialGraphException)
            {
                throw Unreadable(connection.Version, exception);
            }

            using CancellationTokenSource timeout = new(s_tokenTimeout);
            object? provider = null;
            try
            {
                Task providerTask = Required(Call(getProvider, null, connection.AuthContext) as Task, "the provider task");
                Wait(providerTask, timeout.Token);
                provider = Required(InstanceProperty(providerTask, "Result"), "the token provider");
                MethodInfo getToken = Required(
                    provider.GetType().GetMethod("GetAuthorizationTokenAsync", new[] { typeof(Uri), typeof(Dictionary<string, object>), typeof(CancellationToken) }),
                    "AzureIdentityAccessTokenProvider.GetAuthorizationTokenAsync(Uri, Dictionary, CancellationToken)");
                Task<string> tokenTask = Required(Call(getToken, provider, s_providerCheckUri, null, timeout.Token) as Task<string>, "the token task");
                Wait(tokenTask, timeout.Token);
                if (string.IsNullOrEmpty(tokenTask.Result))
                {
                    throw NoToken(connection, "it handed out an empty token");
                }

                return tokenTask.Result;
            }
            catch (SignInFailure failure)
            {
                throw NoToken(connection, failure.InnerException?.Message ?? failure.Message);
            }
            catch (Exception exception) when (exception is not OfficialGraphException)
            {
                throw Unreadable(connection.Version, exception);
            }
            finally
            {
                (provider as IDisposable)?.Dispose();
            }
        }

        /// <summary>
        /// Runs one of the official module's commands by its module-qualified name with the given
        /// parameters, its output, errors and host messages going where this cmdlet's would
        /// (a steppable pipeline begun on this cmdlet, the way proxy commands forward).
        /// </summary>
        internal static void Forward(PSCmdlet cmdlet, string commandName)
        {
            Hashtable parameters = new(StringComparer.OrdinalIgnoreCase);
            foreach (KeyValuePair<string, object> bound in cmdlet.MyInvocation.BoundParameters)
            {
                // This module's enums (ContextScope) are not the official ones: their names bind.
                parameters[bound.Key] = bound.Value is Enum value ? value.ToString() : bound.Value;
            }

            ScriptBlock forward = ScriptBlock.Create($"param($Parameters) {ModuleName}\\{commandName} @Parameters");
            using SteppablePipeline pipeline = forward.GetSteppablePipeline(CommandOrigin.Internal, new object[] { parameters });
            pipeline.Begin(cmdlet);
            pipeline.End();
        }

        /// <summary>
        /// Makes sure the official module is loaded when it is installed (on PSModulePath), so a
        /// sign-in made now is the one both modules use whichever of them autoloads first.
        /// Returns whether it is loaded.
        /// </summary>
        internal static bool LoadIfInstalled(PSCmdlet cmdlet)
        {
            if (IsLoaded)
            {
                return true;
            }

            cmdlet.InvokeCommand.InvokeScript(
                $"if (Get-Module -ListAvailable -Name {ModuleName}) {{ Import-Module -Name {ModuleName} -Global -ErrorAction Stop }}");
            return IsLoaded;
        }

        private static Assembly? CoreAssembly()
        {
            // AppDomain.GetAssemblies lists the assemblies of every load context.
            return AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(assembly =>
                string.Equals(assembly.GetName().Name, CoreAssemblyName, StringComparison.Ordinal) && assembly.GetType(SessionTypeName) is not null);
        }

        private static string VersionOf(Assembly core)
        {
            Version? version = core.GetName().Version;
            return version is null ? "(unknown version)" : version.ToString(3);
        }

        private static object? StaticProperty(Type type, string name)
        {
            PropertyInfo property = Required(type.GetProperty(name, BindingFlags.Public | BindingFlags.Static), $"{type.Name}.{name}");
            return property.GetValue(null);
        }

        private static object? InstanceProperty(object target, string name)
        {
            PropertyInfo property = Required(target.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance), $"{target.GetType().Name}.{name}");
            return property.GetValue(target);
        }

        /// <summary>Calls a method; an exception thrown by the official code itself is a sign-in failure, not a mismatch.</summary>
        private static object? Call(MethodInfo method, object? target, params object?[] arguments)
        {
            try
            {
                return method.Invoke(target, arguments);
            }
            catch (TargetInvocationException failure)
            {
                throw new SignInFailure(failure.InnerException ?? failure);
            }
        }

        private static void Wait(Task task, CancellationToken cancel)
        {
            try
            {
                task.Wait(cancel);
            }
            catch (AggregateException failure)
            {
                throw new SignInFailure(failure.InnerException ?? failure);
            }
            catch (OperationCanceledException failure)
            {
                throw new SignInFailure(new TimeoutException($"no token came within {s_tokenTimeout.TotalSeconds} seconds", failure));
            }
        }

        private static T Required<T>(T? value, string what)
            where T : class
        {
            return value ?? throw new MissingMemberException($"{what} is missing");
        }

        private static OfficialGraphException Unreadable(string version, Exception exception)
        {
            return new OfficialGraphException(
                $"The official {ModuleName} {version} is loaded but its connection could not be read ({exception.GetType().Name}: {exception.Message}). "
                + $"This module reads the connection of {ModuleName} {TestedVersion}: update this module, or import {ModuleName} {TestedVersion} (Import-Module {ModuleName} -RequiredVersion {TestedVersion}) in a new session.",
                "OfficialConnectionUnreadable",
                ErrorCategory.NotImplemented,
                exception);
        }

        private static OfficialGraphException NoToken(Connection connection, string reason)
        {
            return new OfficialGraphException(
                $"The connection of the official {ModuleName} {connection.Version} (environment '{connection.Environment}') gave no access token: {reason.TrimEnd('.')}. Run Connect-MgGraph again.",
                "OfficialConnectionNoToken",
                ErrorCategory.AuthenticationError,
                null);
        }

        /// <summary>An exception raised inside the official module's own code.</summary>
        private sealed class SignInFailure : Exception
        {
            internal SignInFailure(Exception inner)
                : base(inner.Message, inner)
            {
            }
        }
    }

    /// <summary>
    /// A failure to use the official module's connection; PowerShell takes its ErrorRecord as it
    /// is, so the user sees one clear error and never a reflection stack trace.
    /// </summary>
    internal sealed class OfficialGraphException : RuntimeException
    {
        private readonly ErrorRecord _record;

        internal OfficialGraphException(string message, string errorId, ErrorCategory category, Exception? inner)
            : base(message, inner)
        {
            _record = new ErrorRecord(this, errorId, category, null);
        }

        /// <inheritdoc/>
        public override ErrorRecord ErrorRecord => _record;
    }
}
