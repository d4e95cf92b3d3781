using System;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>A <c>GraphError</c> from the Rust core, as it crosses the boundary.</summary>
    internal sealed class NativeError
    {
        public string Kind { get; set; } = "Internal";

        public string Message { get; set; } = string.Empty;

        public int? Status { get; set; }

        public string? Code { get; set; }

        public string? RequestId { get; set; }

        public string? ClientRequestId { get; set; }

        public string? Date { get; set; }

        public Exchange? Exchange { get; set; }
    }

    /// <summary>Carries a <see cref="NativeError"/> through code that is not per-item (connect, environments).</summary>
    internal sealed class NativeErrorException : Exception
    {
        internal NativeErrorException(NativeError error)
            : base(error.Message)
        {
            Error = error;
        }

        internal NativeError Error { get; }
    }
}
