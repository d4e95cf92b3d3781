using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// The process's current sign-in context, as Connect-MgGraph left it. Process-wide like the
    /// official module's, so every runspace of the process shares one sign-in. When the official
    /// Microsoft.Graph.Authentication is loaded and connected, its connection is the one calls use
    /// (see <see cref="OfficialGraph"/>): its token is handed to the engine like -AccessToken, one
    /// session per token, with its environment's Graph endpoint.
    /// </summary>
    internal static class GraphSessionState
    {
        private static readonly object s_lock = new();
        private static SessionHandle? s_session;
        private static ContextInfo? s_context;

        // The session opened for the official connection's current token, and what it was opened for.
        private static SessionHandle? s_borrowed;
        private static byte[]? s_borrowedKey;

        /// <summary>
        /// The session calls use: the official module's connection when it has one, else this
        /// module's own; null when nobody is connected. Throws an <see cref="OfficialGraphException"/>
        /// (one clear ErrorRecord) when the official connection cannot be used.
        /// </summary>
        internal static SessionHandle? Session
        {
            get
            {
                OfficialGraph.Connection? official = OfficialGraph.Current();
                return official is null ? OwnSession : Borrow(official);
            }
        }

        /// <summary>This module's own session (Connect-MgGraph without the official module), or null.</summary>
        internal static SessionHandle? OwnSession
        {
            get
            {
                lock (s_lock)
                {
                    return s_session;
                }
            }
        }

        internal static ContextInfo? Context
        {
            get
            {
                lock (s_lock)
                {
                    return s_context;
                }
            }
        }

        /// <summary>Makes a new session current; the previous one is released once no call uses it.</summary>
        internal static void Replace(SessionHandle session, ContextInfo context)
        {
            SessionHandle? previous;
            lock (s_lock)
            {
                previous = s_session;
                s_session = session;
                s_context = context;
            }

            previous?.Dispose();
        }

        /// <summary>Forgets the current session and any borrowed one; returns the own context, or null if there was none.</summary>
        internal static ContextInfo? Clear()
        {
            SessionHandle? previous;
            SessionHandle? borrowed;
            ContextInfo? context;
            lock (s_lock)
            {
                previous = s_session;
                borrowed = s_borrowed;
                context = s_context;
                s_session = null;
                s_context = null;
                s_borrowed = null;
                s_borrowedKey = null;
            }

            previous?.Dispose();
            borrowed?.Dispose();
            return context;
        }

        /// <summary>The session for the official connection's current token, opened when the token or endpoint changed.</summary>
        private static SessionHandle Borrow(OfficialGraph.Connection official)
        {
            string token = OfficialGraph.Token(official);
            byte[] key = SHA256.HashData(Encoding.UTF8.GetBytes($"{official.Environment}\n{official.GraphEndpoint}\n{token}"));
            lock (s_lock)
            {
                if (s_borrowed is not null && s_borrowedKey is not null && CryptographicOperations.FixedTimeEquals(key, s_borrowedKey))
                {
                    return s_borrowed;
                }
            }

            SessionHandle session;
            using (SecureString secure = new())
            {
                foreach (char c in token)
                {
                    secure.AppendChar(c);
                }

                try
                {
                    (session, _) = GraphCore.OpenWithAccessToken(
                        new SessionConfig { Environment = official.Environment, GraphEndpoint = official.GraphEndpoint },
                        secure);
                }
                catch (NativeErrorException failure)
                {
                    throw new OfficialGraphException(
                        $"The token of the official {OfficialGraph.ModuleName} {official.Version} connection (environment '{official.Environment}', {official.GraphEndpoint}) cannot be used: {failure.Error.Message}. Run Connect-MgGraph again.",
                        "OfficialConnectionUnusable",
                        ErrorCategory.AuthenticationError,
                        null);
                }
            }

            SessionHandle? previous;
            lock (s_lock)
            {
                previous = s_borrowed;
                s_borrowed = session;
                s_borrowedKey = key;
            }

            previous?.Dispose();
            return session;
        }
    }
}
