using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Host;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Drives a Rust bulk run from the cmdlet: submits each piped user with a sequence number,
    /// and writes outcomes back in input order (one boolean or one error per input) as soon as
    /// the head of the line is done. Every Write happens on the pipeline thread, in
    /// <see cref="Drain"/>; a bounded window keeps memory flat however many users are piped.
    /// With -Verify or -JournalPath the engine releases an outcome only once it is read back
    /// and journaled, so what is written here is already on disk; such runs end with a summary
    /// line on the information stream.
    /// </summary>
    internal sealed class BulkRevocation : IDisposable
    {
        /// <summary>Most items submitted but not yet written; beyond it, submitting waits.</summary>
        internal const int Window = 2000;

        /// <summary>Global variable that describes a run stopped with Ctrl+C.</summary>
        internal const string StopSummaryVariable = "MgBetaRevocationStopped";

        private const int ProgressActivityId = 0x6D67;

        private readonly PSCmdlet _cmdlet;
        private readonly PSVariableIntrinsics _variables;
        private readonly PSHost? _host;
        private readonly BulkHandle _handle;
        private readonly bool _summarize;
        private readonly Dictionary<long, BulkCompletion> _early = new();
        private readonly Dictionary<long, string> _userIds = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _nextSeq;
        private long _nextToWrite;
        private long _written;
        private bool _stopReported;
        private bool _completed;
        private TimeSpan _lastProgress = TimeSpan.Zero;
        private bool _progressShown;
        // What the progress bar says the run is doing.
        private readonly string _activity;
        private long _revoked;
        private long _verified;
        private long _skipped;
        private long _failed;

        /// <summary>Starts the engine's run; a journal path the engine refuses throws <see cref="NativeErrorException"/>.</summary>
        internal BulkRevocation(PSCmdlet cmdlet, SessionHandle session, CallOptions options, BulkRunSettings settings, string activity)
        {
            _activity = activity;
            _cmdlet = cmdlet;
            // Taken now: once the pipeline is stopped, the cmdlet's own accessors may be gone.
            _variables = cmdlet.SessionState.PSVariable;
            _host = cmdlet.Host;
            _summarize = settings.Verify || settings.JournalPath is not null;
            (_handle, BulkStarted started) = GraphCore.StartBulk(session, options, settings);
            if (settings.JournalPath is string journal)
            {
                cmdlet.WriteVerbose($"Journal '{journal}': {started.JournalDone} users recorded as revoked or verified for this Graph endpoint, {started.JournalSkippedLines} unreadable lines ignored.");
            }
        }

        private long Outstanding => _nextSeq - _nextToWrite;

        /// <summary>Every input has its outcome written: the run ended normally.</summary>
        internal bool Completed => _completed;

        /// <summary>Queues one user, first waiting for room in the window.</summary>
        internal void Submit(string userId, List<string[]> headers)
        {
            while (Outstanding >= Window)
            {
                if (Drain(TimeSpan.FromMilliseconds(100)).Finished)
                {
                    return;
                }
            }

            long seq = _nextSeq++;
            _userIds[seq] = userId;
            if (GraphCore.SubmitBulk(_handle, seq, userId, headers) is NativeError refused)
            {
                _early[seq] = new BulkCompletion { Seq = seq, Error = refused };
            }

            Drain(TimeSpan.Zero);
        }

        /// <summary>No more input: waits for every outcome and writes it.</summary>
        internal void Complete()
        {
            GraphCore.CloseBulk(_handle);
            BulkPoll poll;
            do
            {
                poll = Drain(TimeSpan.FromMilliseconds(250));
            }
            while (!poll.Finished);

            _completed = !poll.Cancelled;
            if (_completed && _summarize)
            {
                _cmdlet.WriteInformation(
                    $"Revocation summary: {_revoked} revoked, {_verified} verified, {_skipped} skipped (recorded in the journal), {_failed} failed.",
                    new[] { "RevocationSummary" });
            }

            if (_progressShown)
            {
                _cmdlet.WriteProgress(new ProgressRecord(ProgressActivityId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }

        /// <summary>Ctrl+C: stop sending now. Runs on another thread.</summary>
        internal void Cancel() => GraphCore.CancelBulk(_handle);

        public void Dispose() => _handle.Dispose();


        private BulkPoll Drain(TimeSpan wait)
        {
            BulkPoll poll = GraphCore.PollBulk(_handle, (uint)wait.TotalMilliseconds, maxItems: 5000);
            foreach (BulkCompletion completion in poll.Completions)
            {
                _early[completion.Seq] = completion;
            }

            if (poll.Cancelled)
            {
                // Stopped: the pipeline refuses writes now, so the count goes to the host and
                // to a variable, here on the pipeline thread before the stop completes.
                ReportStop();
                return poll;
            }

            try
            {
                WritePrefix();
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C landed between the poll and a write.
                ReportStop();
                throw;
            }

            ShowProgress(poll.Progress);
            return poll;
        }

        private void WritePrefix()
        {
            while (_early.Remove(_nextToWrite, out BulkCompletion? completion))
            {
                string userId = _userIds[_nextToWrite];
                _userIds.Remove(_nextToWrite);
                _nextToWrite++;
                _written++;
                if (completion.Outcome is BulkItemOutcome outcome)
                {
                    Count(outcome);
                    if (outcome.FromJournal is string recorded)
                    {
                        _cmdlet.WriteVerbose($"'{userId}' is recorded as {recorded} in the journal: not sent again.");
                    }
                    else if (outcome.Verified)
                    {
                        _cmdlet.WriteVerbose($"'{userId}': the read-back confirms the revocation (request-id: {outcome.RequestId}).");
                    }

                    _cmdlet.WriteObject(BooleanResult.Create(outcome.Value));
                }
                else if (completion.Error is NativeError error && error.Kind != "Cancelled")
                {
                    _failed++;
                    _cmdlet.WriteError(GraphErrorRecords.ForUser(error, userId));
                }
            }
        }

        private void Count(BulkItemOutcome outcome)
        {
            if (outcome.FromJournal is not null)
            {
                _skipped++;
            }
            else if (!outcome.Value)
            {
                _failed++;
            }
            else if (outcome.Verified)
            {
                _verified++;
            }
            else
            {
                _revoked++;
            }
        }

        private void ShowProgress(BulkProgress progress)
        {
            // A single user or a quick run shows nothing; a long run refreshes a few times a second.
            if (progress.Submitted < 2 || _clock.Elapsed < TimeSpan.FromSeconds(1) || _clock.Elapsed - _lastProgress < TimeSpan.FromMilliseconds(250))
            {
                return;
            }

            _lastProgress = _clock.Elapsed;
            _progressShown = true;
            long done = progress.Succeeded + progress.Failed;
            string status = $"{done} of {progress.Submitted} done: {progress.Succeeded} revoked, {progress.Failed} failed, {progress.Throttled} throttled answers waited out";
            _cmdlet.WriteProgress(new ProgressRecord(ProgressActivityId, _activity, status)
            {
                PercentComplete = progress.Submitted == 0 ? 0 : (int)(100 * done / progress.Submitted),
            });
        }

        /// <summary>
        /// After Ctrl+C the pipeline refuses writes, so the count goes straight to the host:
        /// responders must know how many users were signed out and how many were not. Called
        /// on the pipeline thread once the stop has happened: from the poll that sees it, or
        /// from the cmdlet's Dispose when the run was left unfinished. PowerShell may dispose
        /// the cmdlet before StopProcessing has even run on its own thread, so this cancels
        /// the engine itself rather than rely on that.
        /// </summary>
        internal void ReportStop()
        {
            if (_stopReported)
            {
                return;
            }

            _stopReported = true;
            GraphCore.CancelBulk(_handle);
            // The engine stops within milliseconds of the cancel; collect every outcome it
            // produced until then, so the counts below are final.
            Stopwatch waited = Stopwatch.StartNew();
            BulkPoll poll;
            do
            {
                poll = GraphCore.PollBulk(_handle, 100, 5000);
                foreach (BulkCompletion completion in poll.Completions)
                {
                    _early[completion.Seq] = completion;
                }
            }
            while (!poll.Finished && waited.Elapsed < TimeSpan.FromMilliseconds(500));

            // Every submitted user is either written, or waiting to be written (with or
            // without an outcome): the two counts always add up to the number submitted.
            List<string> notProcessed = new();
            foreach (KeyValuePair<long, string> pending in _userIds)
            {
                if (!_early.ContainsKey(pending.Key))
                {
                    notProcessed.Add(pending.Value);
                }
            }

            long notDone = notProcessed.Count;
            long done = _nextSeq - notDone;
            // Scripts can pick up where the run stopped: $MgBetaRevocationStopped.NotProcessed.
            _variables.Set("global:" + StopSummaryVariable, new PSObject(new
            {
                Submitted = _nextSeq,
                Processed = done,
                Revoked = poll.Progress.Succeeded,
                Failed = poll.Progress.Failed,
                Written = _written,
                NotProcessed = notProcessed.ToArray(),
            }));
            string message =
                $"Stopped: {done} of {_nextSeq} users were processed ({poll.Progress.Succeeded} revoked, {poll.Progress.Failed} failed, {_written} written to the pipeline); {notDone} were not processed: they are in ${StopSummaryVariable}.NotProcessed.";
            try
            {
                _host?.UI?.WriteWarningLine(message);
            }
            catch (Exception)
            {
                // A host without a usable UI (a job, an embedding application) still has the variable.
            }
        }
    }
}
