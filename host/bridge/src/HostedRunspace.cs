using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace PwshHost.Bridge
{
    /// <summary>
    /// One PowerShell runspace that runs every invocation on the thread that asks for it
    /// (<see cref="PSThreadOptions.UseCurrentThread"/>): no PowerShell thread exists whose
    /// unhandled exception could end the process, stream records reach the native side on the
    /// caller's thread while the pipeline runs, and a warm call costs about half of the default.
    /// The native side calls it from one thread of its own; <see cref="Stop"/> may come from any.
    /// </summary>
    internal sealed class HostedRunspace : IDisposable
    {
        private readonly Runspace _runspace;
        private readonly BridgeHost _host;
        private readonly object _lock = new();
        private PowerShell? _current;

        private HostedRunspace(Runspace runspace, BridgeHost host)
        {
            _runspace = runspace;
            _host = host;
        }

        internal static HostedRunspace Open()
        {
            // CreateDefault2 loads only Microsoft.PowerShell.Core; other built-in modules autoload.
            InitialSessionState state = InitialSessionState.CreateDefault2();
            BridgeHost host = new();
            Runspace runspace = RunspaceFactory.CreateRunspace(host, state);
            runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
            try
            {
                runspace.Open();
            }
            catch
            {
                runspace.Dispose();
                throw;
            }

            return new HostedRunspace(runspace, host);
        }

        /// <summary>
        /// Runs one request, sending each record as it is written and then a summary. A
        /// terminating error does not lose what was written before it: output goes to a
        /// collection the bridge owns, and the error becomes a record marked terminating.
        /// </summary>
        internal void Invoke(InvokeRequest request, Sink sink)
        {
            using PowerShell powerShell = PowerShell.Create();
            powerShell.Runspace = _runspace;
            if (request.Script is not null)
            {
                powerShell.AddScript(request.Script, request.LocalScope);
            }
            else
            {
                powerShell.AddCommand(request.Command);
            }

            foreach (var parameter in request.Parameters)
            {
                powerShell.AddParameter(parameter.Key, parameter.Value);
            }

            foreach (object? argument in request.Arguments)
            {
                powerShell.AddArgument(argument);
            }

            int depth = request.JsonDepth;
            using PSDataCollection<PSObject> output = new();
            output.DataAdded += (_, _) => Drain(output, sink, item => RecordJson.Output(item, depth));
            PSDataStreams streams = powerShell.Streams;
            streams.Error.DataAdded += (_, _) => Drain(streams.Error, sink, record => RecordJson.Error(record, terminating: false));
            streams.Warning.DataAdded += (_, _) => Drain(streams.Warning, sink, record => RecordJson.Message("warning", record.Message));
            streams.Verbose.DataAdded += (_, _) => Drain(streams.Verbose, sink, record => RecordJson.Message("verbose", record.Message));
            streams.Debug.DataAdded += (_, _) => Drain(streams.Debug, sink, record => RecordJson.Message("debug", record.Message));
            streams.Information.DataAdded += (_, _) => Drain(streams.Information, sink, RecordJson.Information);

            bool stopped = false;
            _host.ResetExit();
            lock (_lock)
            {
                _current = powerShell;
            }

            try
            {
                powerShell.Invoke(request.Input, output, settings: null);
            }
            catch (PipelineStoppedException e)
            {
                stopped = true;
                sink.Send(MessageKind.Record, RecordJson.Error(e.ErrorRecord, terminating: true));
            }
            catch (RuntimeException e)
            {
                sink.Send(MessageKind.Record, RecordJson.Error(e.ErrorRecord, terminating: true));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                ErrorRecord record = new(e, e.GetType().Name, ErrorCategory.NotSpecified, null);
                sink.Send(MessageKind.Record, RecordJson.Error(record, terminating: true));
            }
            finally
            {
                lock (_lock)
                {
                    _current = null;
                }
            }

            stopped |= powerShell.InvocationStateInfo.State == PSInvocationState.Stopped;
            object? lastExitCode = _runspace.SessionStateProxy.GetVariable("LASTEXITCODE");
            sink.Send(MessageKind.Completed, RecordJson.Completed(powerShell.HadErrors, stopped, lastExitCode, _host.ExitCode));
        }

        /// <summary>Stops the running invocation, if any (Ctrl+C, a timeout); safe from any thread.</summary>
        internal void Stop()
        {
            PowerShell? running;
            lock (_lock)
            {
                running = _current;
            }

            try
            {
                running?.Stop();
            }
            catch (ObjectDisposedException)
            {
                // It finished in between: nothing left to stop.
            }
        }

        public void Dispose() => _runspace.Dispose();

        private static void Drain<T>(PSDataCollection<T> collection, Sink sink, Func<T, byte[]> toJson)
        {
            // ReadAll empties the collection, so a long script does not keep every record in memory.
            foreach (T item in collection.ReadAll())
            {
                byte[] json;
                try
                {
                    json = toJson(item);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    json = Json.Failure("recordConversion", $"a {typeof(T).Name} could not be written as JSON: {e.Message}");
                    sink.Send(MessageKind.Failure, json);
                    continue;
                }

                sink.Send(MessageKind.Record, json);
            }
        }
    }
}
