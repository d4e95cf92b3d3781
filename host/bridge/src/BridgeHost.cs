using System;
using System.Globalization;
using System.Management.Automation.Host;
using System.Threading;

namespace PwshHost.Bridge
{
    /// <summary>
    /// The PowerShell host object of a hosted runspace. It has no user interface (like the
    /// default host: <c>Write-Host</c> goes to the information stream, prompts fail with
    /// <c>HostFunctionNotImplemented</c>); what it adds is <see cref="SetShouldExit"/>, which is how
    /// PowerShell reports <c>exit N</c> at the top level of a script text, so the native side
    /// gets that code instead of losing it.
    /// </summary>
    internal sealed class BridgeHost : PSHost
    {
        private readonly Guid _instanceId = Guid.NewGuid();
        private int _exitCode;
        private int _exitRequested;

        public override string Name => "pwsh-host";

        public override Version Version => typeof(BridgeHost).Assembly.GetName().Version ?? new Version(0, 1);

        public override Guid InstanceId => _instanceId;

        public override PSHostUserInterface? UI => null;

        public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

        public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

        /// <summary>Forgets an earlier exit request; called before each invocation.</summary>
        internal void ResetExit() => Interlocked.Exchange(ref _exitRequested, 0);

        /// <summary>The code of an <c>exit</c> since <see cref="ResetExit"/>, if there was one.</summary>
        internal int? ExitCode => Volatile.Read(ref _exitRequested) == 1 ? Volatile.Read(ref _exitCode) : null;

        public override void SetShouldExit(int exitCode)
        {
            Volatile.Write(ref _exitCode, exitCode);
            Volatile.Write(ref _exitRequested, 1);
        }

        public override void EnterNestedPrompt() =>
            throw new NotSupportedException("pwsh-host has no interactive prompt: nested prompts are not supported");

        public override void ExitNestedPrompt() =>
            throw new NotSupportedException("pwsh-host has no interactive prompt: nested prompts are not supported");

        public override void NotifyBeginApplication()
        {
        }

        public override void NotifyEndApplication()
        {
        }
    }
}
