using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using Debugger = System.Diagnostics.Debugger;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>-Break: waits for a .NET debugger to attach, then breaks into it. Ctrl+C ends the wait.</summary>
    internal static class DebuggerWait
    {
        internal static void WaitForDebugger(PSCmdlet cmdlet, CancellationToken stopping)
        {
            if (!Debugger.IsAttached)
            {
                cmdlet.WriteWarning(
                    $"Waiting for a .NET debugger to attach to process {Environment.ProcessId} ({Process.GetCurrentProcess().ProcessName}); press Ctrl+C to stop waiting.");
                while (!Debugger.IsAttached)
                {
                    if (stopping.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(100)))
                    {
                        throw new PipelineStoppedException();
                    }
                }
            }

            Debugger.Break();
        }
    }
}
