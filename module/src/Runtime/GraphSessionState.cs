using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// The process's current sign-in context, as Connect-MgGraph left it. Process-wide like the
    /// official module's, so every runspace of the process shares one sign-in.
    /// </summary>
    internal static class GraphSessionState
    {
        private static readonly object s_lock = new();
        private static SessionHandle? s_session;
        private static ContextInfo? s_context;

        /// <summary>The live session, or null when not connected.</summary>
        internal static SessionHandle? Session
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

        /// <summary>Forgets the current session; returns its context, or null if there was none.</summary>
        internal static ContextInfo? Clear()
        {
            SessionHandle? previous;
            ContextInfo? context;
            lock (s_lock)
            {
                previous = s_session;
                context = s_context;
                s_session = null;
                s_context = null;
            }

            previous?.Dispose();
            return context;
        }
    }
}
