using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// The UTF-8 bytes of a SecureString in a pinned array (so the GC never leaves a copy behind),
    /// zeroed on dispose. The only way secrets leave SecureString on their way to Rust.
    /// </summary>
    internal sealed unsafe class SecretBytes : IDisposable
    {
        private readonly byte[] _bytes;

        internal SecretBytes(SecureString? secret)
        {
            if (secret is null || secret.Length == 0)
            {
                _bytes = Array.Empty<byte>();
                return;
            }

            IntPtr chars = Marshal.SecureStringToGlobalAllocUnicode(secret);
            try
            {
                int byteCount = Encoding.UTF8.GetByteCount((char*)chars, secret.Length);
                _bytes = GC.AllocateUninitializedArray<byte>(byteCount, pinned: true);
                fixed (byte* target = _bytes)
                {
                    Encoding.UTF8.GetBytes((char*)chars, secret.Length, target, byteCount);
                }
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(chars);
            }
        }

        /// <summary>The bytes; pinned, so the address stays valid while this object lives.</summary>
        internal byte[] Bytes => _bytes;

        public void Dispose()
        {
            CryptographicOperations.ZeroMemory(_bytes);
        }
    }
}
