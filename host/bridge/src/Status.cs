namespace PwshHost.Bridge
{
    /// <summary>What every entry point returns; details always travel through the sink.</summary>
    internal static class Status
    {
        /// <summary>The call did what was asked (an invocation may still have reported errors as records).</summary>
        internal const int Ok = 0;

        /// <summary>The call failed; a <see cref="MessageKind.Failure"/> message says why.</summary>
        internal const int Failed = 1;

        /// <summary>The call could not even report its failure (no sink was given).</summary>
        internal const int InvalidArgument = 2;
    }
}
