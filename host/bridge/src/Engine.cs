using System;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace PwshHost.Bridge
{
    /// <summary>
    /// What the entry points do, once PowerShell is resolvable. Every method here is kept out of
    /// line and its signature names no PowerShell type: the JIT loads PowerShell only when one of
    /// them runs, inside the entry point's catch-all, never while compiling the entry point.
    /// Runspaces are named by number, so a stale or repeated id is an error, not a crash.
    /// </summary>
    internal static class Engine
    {
        private static readonly ConcurrentDictionary<long, object> s_runspaces = new();
        private static long s_nextId;

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static int Describe(Sink sink)
        {
            Assembly automation = typeof(System.Management.Automation.PSObject).Assembly;
            string version = automation.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? automation.GetName().Version?.ToString()
                ?? "unknown";
            int end = version.IndexOfAny(new[] { ' ', '+' });
            if (end > 0)
            {
                version = version.Substring(0, end);
            }

            sink.Send(MessageKind.Completed, Json.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("psVersion", version);
                writer.WriteString("psHome", PowerShellResolver.PSHome);
                writer.WriteString("automationAssembly", automation.Location);
                writer.WriteString("dotnet", RuntimeInformation.FrameworkDescription);
                writer.WriteString("bridge", typeof(Engine).Assembly.Location);
                writer.WriteEndObject();
            }));
            return Status.Ok;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static int Open(out long id)
        {
            HostedRunspace runspace = HostedRunspace.Open();
            id = Interlocked.Increment(ref s_nextId);
            s_runspaces[id] = runspace;
            return Status.Ok;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static int Invoke(long id, ReadOnlySpan<byte> requestJson, Sink sink)
        {
            if (!s_runspaces.TryGetValue(id, out object? found) || found is not HostedRunspace runspace)
            {
                sink.Fail("badRunspace", $"there is no open runspace {id}: open one first");
                return Status.Failed;
            }

            InvokeRequest? request = InvokeRequest.Parse(requestJson, out string? problem);
            if (request is null)
            {
                sink.Fail("badRequest", problem ?? "the request could not be read");
                return Status.Failed;
            }

            runspace.Invoke(request, sink);
            return Status.Ok;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static int Stop(long id)
        {
            if (s_runspaces.TryGetValue(id, out object? found) && found is HostedRunspace runspace)
            {
                runspace.Stop();
            }

            return Status.Ok;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static int Close(long id)
        {
            if (s_runspaces.TryRemove(id, out object? found) && found is HostedRunspace runspace)
            {
                runspace.Dispose();
            }

            return Status.Ok;
        }

        /// <summary>Text for a failure report: the exception's type and message, inner ones too.</summary>
        internal static string Describe(Exception exception)
        {
            string text = $"{exception.GetType().Name}: {exception.Message}";
            for (Exception? inner = exception.InnerException; inner is not null; inner = inner.InnerException)
            {
                text += $" ({inner.GetType().Name}: {inner.Message})";
            }

            return text;
        }
    }
}
