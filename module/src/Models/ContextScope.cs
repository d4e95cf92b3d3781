namespace Microsoft.Graph.PowerShell.Authentication
{
    /// <summary>Where a sign-in context lives, as the official module names it.</summary>
    public enum ContextScope
    {
        /// <summary>This process only, in memory.</summary>
        Process,

        /// <summary>Also the user's token cache on disk, so new processes sign in silently (delegated sign-in).</summary>
        CurrentUser,
    }
}
