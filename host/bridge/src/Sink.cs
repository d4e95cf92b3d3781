using System;

namespace PwshHost.Bridge
{
    /// <summary>What a message handed to the native side is.</summary>
    internal enum MessageKind
    {
        /// <summary>One record of an invocation's streams (output, error, warning, ...), as JSON.</summary>
        Record = 1,

        /// <summary>The answer of a call that succeeded (an invocation's summary, version info), as JSON.</summary>
        Completed = 2,

        /// <summary>Why a call failed, as JSON <c>{"kind": ..., "message": ...}</c>.</summary>
        Failure = 3,
    }

    /// <summary>
    /// The native side's callback: every answer crosses the boundary as UTF-8 JSON that the bridge
    /// owns and that is valid only during the call, so the native side copies it and no memory is
    /// ever freed on the side that did not allocate it.
    /// </summary>
    internal readonly unsafe struct Sink
    {
        private readonly delegate* unmanaged<nint, int, byte*, int, void> _callback;
        private readonly nint _context;

        internal Sink(delegate* unmanaged<nint, int, byte*, int, void> callback, nint context)
        {
            _callback = callback;
            _context = context;
        }

        internal bool IsNull => _callback == null;

        internal void Send(MessageKind kind, ReadOnlySpan<byte> utf8Json)
        {
            if (_callback == null)
            {
                return;
            }

            fixed (byte* bytes = utf8Json)
            {
                _callback(_context, (int)kind, bytes, utf8Json.Length);
            }
        }

        internal void Fail(string kind, string message) => Send(MessageKind.Failure, Json.Failure(kind, message));
    }
}
