using System;
using System.Runtime.InteropServices;
using System.Text;

namespace PwshHost.Bridge
{
    /// <summary>
    /// The entry points the Rust host calls (crates/pwsh-host/src/bridge.rs declares the same
    /// signatures). Rules for every one: it catches everything, because an exception escaping an
    /// <c>[UnmanagedCallersOnly]</c> method ends the process; it returns a <see cref="Status"/>;
    /// everything else (answers, records, failure reasons) goes through the caller's sink as
    /// UTF-8 JSON valid only during the callback. Strings come in as UTF-8 pointer + length.
    /// </summary>
    public static unsafe class Exports
    {
        /// <summary>
        /// Binds the process to the PowerShell installation in <paramref name="psHome"/> (the
        /// folder holding pwsh.dll) and answers its version. Call once, before anything else.
        /// </summary>
        [UnmanagedCallersOnly]
        public static int Initialize(byte* psHome, int psHomeLength, delegate* unmanaged<nint, int, byte*, int, void> callback, nint context)
        {
            Sink sink = new(callback, context);
            if (sink.IsNull)
            {
                return Status.InvalidArgument;
            }

            try
            {
                string? folder = Utf8(psHome, psHomeLength);
                if (folder is null)
                {
                    sink.Fail("badRequest", "no PowerShell folder was given: pass the folder that holds pwsh.dll");
                    return Status.Failed;
                }

                string? problem = PowerShellResolver.Register(folder);
                if (problem is not null)
                {
                    sink.Fail("powerShell", problem);
                    return Status.Failed;
                }

                return Engine.Describe(sink);
            }
            catch (Exception e)
            {
                return Report(sink, "powerShell", $"PowerShell could not be loaded from the folder given: {Engine.Describe(e)}");
            }
        }

        /// <summary>Opens a runspace and writes its id to <paramref name="id"/>.</summary>
        [UnmanagedCallersOnly]
        public static int OpenRunspace(long* id, delegate* unmanaged<nint, int, byte*, int, void> callback, nint context)
        {
            Sink sink = new(callback, context);
            if (sink.IsNull || id == null)
            {
                return Status.InvalidArgument;
            }

            try
            {
                if (PowerShellResolver.PSHome is null)
                {
                    sink.Fail("badRequest", "PowerShell is not loaded yet: call Initialize first");
                    return Status.Failed;
                }

                int status = Engine.Open(out long opened);
                *id = opened;
                return status;
            }
            catch (Exception e)
            {
                return Report(sink, "powerShell", $"the runspace could not be opened: {Engine.Describe(e)}");
            }
        }

        /// <summary>Runs one JSON request in a runspace (see InvokeRequest), streaming records to the sink.</summary>
        [UnmanagedCallersOnly]
        public static int Invoke(long id, byte* request, int requestLength, delegate* unmanaged<nint, int, byte*, int, void> callback, nint context)
        {
            Sink sink = new(callback, context);
            if (sink.IsNull)
            {
                return Status.InvalidArgument;
            }

            try
            {
                if (request == null || requestLength <= 0)
                {
                    sink.Fail("badRequest", "the request is empty: send a JSON object with \"script\" or \"command\"");
                    return Status.Failed;
                }

                return Engine.Invoke(id, new ReadOnlySpan<byte>(request, requestLength), sink);
            }
            catch (Exception e)
            {
                return Report(sink, "internal", $"the invocation failed inside the bridge: {Engine.Describe(e)}");
            }
        }

        /// <summary>Stops what runs in a runspace; from any thread; an unknown id is ignored.</summary>
        [UnmanagedCallersOnly]
        public static int StopRunspace(long id)
        {
            try
            {
                return Engine.Stop(id);
            }
            catch (Exception)
            {
                return Status.Failed;
            }
        }

        /// <summary>Closes a runspace; closing an unknown or closed id is harmless.</summary>
        [UnmanagedCallersOnly]
        public static int CloseRunspace(long id)
        {
            try
            {
                return Engine.Close(id);
            }
            catch (Exception)
            {
                return Status.Failed;
            }
        }

        private static int Report(Sink sink, string kind, string message)
        {
            try
            {
                sink.Fail(kind, message);
            }
            catch (Exception)
            {
                // Nothing else can be done: the status still says it failed.
            }

            return Status.Failed;
        }

        private static string? Utf8(byte* bytes, int length) =>
            bytes == null || length <= 0 ? null : Encoding.UTF8.GetString(bytes, length);
    }
}
