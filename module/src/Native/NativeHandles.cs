using System;
using System.Runtime.InteropServices;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// A Rust sign-in session. SafeHandle reference counting keeps the session alive while a
    /// call uses it, even if Disconnect-MgGraph runs on another thread meanwhile.
    /// </summary>
    internal sealed unsafe class SessionHandle : SafeHandle
    {
        internal SessionHandle(GraphSession* session)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle((IntPtr)session);
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.graph_session_free((GraphSession*)handle);
            return true;
        }
    }

    /// <summary>A device code handed out by Entra and not yet redeemed.</summary>
    internal sealed unsafe class DeviceCodeHandle : SafeHandle
    {
        internal DeviceCodeHandle(GraphDeviceCode* pending)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle((IntPtr)pending);
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.graph_device_code_free((GraphDeviceCode*)handle);
            return true;
        }
    }

    /// <summary>A Rust cancellation token: signalled from StopProcessing (Ctrl+C) on another thread.</summary>
    internal sealed unsafe class CancelHandle : SafeHandle
    {
        internal CancelHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle((IntPtr)NativeMethods.graph_cancel_new());
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        internal void Signal()
        {
            using HandleLease lease = new(this);
            NativeMethods.graph_cancel_signal((GraphCancel*)lease.Pointer);
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.graph_cancel_free((GraphCancel*)handle);
            return true;
        }
    }

    /// <summary>A Rust bulk run; freeing it stops any sending still going on.</summary>
    internal sealed unsafe class BulkHandle : SafeHandle
    {
        internal BulkHandle(GraphBulk* bulk)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle((IntPtr)bulk);
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.graph_bulk_free((GraphBulk*)handle);
            return true;
        }
    }

    /// <summary>Holds a reference on a SafeHandle for the duration of one native call.</summary>
    internal readonly ref struct HandleLease
    {
        private readonly SafeHandle? _handle;
        private readonly bool _added;

        internal HandleLease(SafeHandle? handle)
        {
            _handle = handle;
            _added = false;
            if (handle is not null && !handle.IsInvalid && !handle.IsClosed)
            {
                handle.DangerousAddRef(ref _added);
            }
        }

        /// <summary>The raw pointer, or null when there is no live handle.</summary>
        internal IntPtr Pointer => _added ? _handle!.DangerousGetHandle() : IntPtr.Zero;

        public void Dispose()
        {
            if (_added)
            {
                _handle!.DangerousRelease();
            }
        }
    }
}
