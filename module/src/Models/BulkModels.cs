using System.Collections.Generic;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>What one poll of a bulk run returned.</summary>
    internal sealed class BulkPoll
    {
        public List<BulkCompletion> Completions { get; set; } = new();

        public BulkProgress Progress { get; set; } = new();

        public bool Finished { get; set; }

        public bool Cancelled { get; set; }
    }

    /// <summary>One item's outcome, by its sequence number.</summary>
    internal sealed class BulkCompletion
    {
        public long Seq { get; set; }

        public BulkItemOutcome? Outcome { get; set; }

        public NativeError? Error { get; set; }
    }

    /// <summary>A successful item.</summary>
    internal sealed class BulkItemOutcome
    {
        public bool Value { get; set; }

        public int Status { get; set; }

        public string? RequestId { get; set; }

        public string? ClientRequestId { get; set; }

        /// <summary>-Verify: the read-back confirmed the revocation.</summary>
        public bool Verified { get; set; }

        /// <summary>-JournalPath: not sent; the journal records the user so (revoked or verified).</summary>
        public string? FromJournal { get; set; }
    }

    /// <summary>Counters for Write-Progress.</summary>
    internal sealed class BulkProgress
    {
        public long Submitted { get; set; }

        public long Succeeded { get; set; }

        public long Failed { get; set; }

        public long Skipped { get; set; }

        public long Throttled { get; set; }

        public long Concurrency { get; set; }
    }

    /// <summary>What a bulk run does: its action, and -Verify and -JournalPath.</summary>
    internal sealed class BulkRunSettings
    {
        /// <summary>The action's wire name: invalidateAllRefreshTokens or revokeSignInSessions.</summary>
        public string Action { get; set; } = string.Empty;

        public bool Verify { get; set; }

        public string? JournalPath { get; set; }
    }

    /// <summary>What starting a bulk run found in the journal.</summary>
    internal sealed class BulkStarted
    {
        public long JournalDone { get; set; }

        public long JournalSkippedLines { get; set; }
    }

    /// <summary>An empty JSON answer.</summary>
    internal sealed class Empty
    {
    }
}
