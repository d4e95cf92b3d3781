namespace Microsoft.Graph.Beta.PowerShell.Models
{
    /// <summary>
    /// Graph's two session-revocation actions; both sign the user out everywhere. The names on
    /// the wire are the Rust core's <c>RevocationAction</c>.
    /// </summary>
    internal enum RevocationAction
    {
        /// <summary><c>invalidateAllRefreshTokens</c> (Invoke-MgBetaInvalidateAllUserRefreshToken).</summary>
        InvalidateAllRefreshTokens,

        /// <summary><c>revokeSignInSessions</c> (Revoke-MgBetaUserSignInSession).</summary>
        RevokeSignInSessions,
    }

    /// <summary>How each action is named on the wire and to the user.</summary>
    internal static class RevocationActionNames
    {
        /// <summary>The action's name in its URL and in the C ABI.</summary>
        internal static string WireName(this RevocationAction action) => action switch
        {
            RevocationAction.RevokeSignInSessions => "revokeSignInSessions",
            _ => "invalidateAllRefreshTokens",
        };

        /// <summary>What the action does, for -Verbose and the progress bar.</summary>
        internal static string Describe(this RevocationAction action) => action switch
        {
            RevocationAction.RevokeSignInSessions => "Revoking all sign-in sessions",
            _ => "Invalidating all refresh tokens and session cookies",
        };
    }
}
