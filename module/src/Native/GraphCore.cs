using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// The typed face of the Rust core: marshals arguments to UTF-8, calls the generated
    /// P/Invoke declarations and turns their JSON answers into objects. Nothing else in the
    /// shim touches a pointer.
    /// </summary>
    internal static unsafe class GraphCore
    {
        /// <summary>Must equal <c>GRAPH_ABI_VERSION</c> in crates/graph-ffi/src/status.rs.</summary>
        internal const uint ExpectedAbiVersion = 1;

        // Strict: a string with a lone surrogate must not silently become a different id.
        private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private static readonly Lazy<string?> s_abiMismatch = new(CheckAbi);

        internal static (SessionHandle Session, ContextInfo Context) OpenWithAccessToken(SessionConfig config, SecureString token)
        {
            EnsureCompatible();
            byte[] configJson = JsonSerializer.SerializeToUtf8Bytes(config, NativeResult.JsonOptions);
            IntPtr chars = Marshal.SecureStringToGlobalAllocUnicode(token);
            byte[]? tokenBytes = null;
            try
            {
                int charCount = token.Length;
                int byteCount = Encoding.UTF8.GetByteCount((char*)chars, charCount);
                // Pinned so the GC never leaves a copy of the secret behind when it compacts.
                tokenBytes = GC.AllocateUninitializedArray<byte>(byteCount, pinned: true);
                fixed (byte* tokenPointer = tokenBytes)
                fixed (byte* configPointer = configJson)
                {
                    Encoding.UTF8.GetBytes((char*)chars, charCount, tokenPointer, byteCount);
                    GraphSession* session = null;
                    GraphBuffer buffer = default;
                    GraphStatus status = NativeMethods.graph_session_open_with_access_token(
                        configPointer, (nuint)configJson.Length, tokenPointer, (nuint)byteCount, &session, &buffer);
                    ContextInfo context = NativeResult.TakeOrThrow<ContextInfo>(status, buffer);
                    return (new SessionHandle(session), context);
                }
            }
            finally
            {
                if (tokenBytes is not null)
                {
                    CryptographicOperations.ZeroMemory(tokenBytes);
                }

                Marshal.ZeroFreeGlobalAllocUnicode(chars);
            }
        }

        internal static ContextInfo Context(SessionHandle session)
        {
            EnsureCompatible();
            using HandleLease lease = new(session);
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_session_context((GraphSession*)lease.Pointer, &buffer);
            return NativeResult.TakeOrThrow<ContextInfo>(status, buffer);
        }

        /// <summary>Revokes one user's sessions. A null session reports NotConnected from Rust.</summary>
        internal static (RevocationOutcome? Outcome, NativeError? Error) InvalidateAllRefreshTokens(
            SessionHandle? session, string userId, CancelHandle cancel)
        {
            EnsureCompatible();
            if (!TryEncode(userId, out byte[] userIdBytes))
            {
                return (null, new NativeError
                {
                    Kind = "InvalidArgument",
                    Message = "the user id contains an unpaired surrogate character: pass the user's object id or user principal name",
                });
            }

            using HandleLease sessionLease = new(session);
            using HandleLease cancelLease = new(cancel);
            fixed (byte* userIdPointer = userIdBytes)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_invalidate_all_refresh_tokens(
                    (GraphSession*)sessionLease.Pointer,
                    userIdPointer,
                    (nuint)userIdBytes.Length,
                    (GraphCancel*)cancelLease.Pointer,
                    &buffer);
                return NativeResult.Take<RevocationOutcome>(status, buffer);
            }
        }

        internal static EnvironmentInfo[] ListEnvironments()
        {
            EnsureCompatible();
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_environment_list(&buffer);
            return NativeResult.TakeOrThrow<EnvironmentInfo[]>(status, buffer);
        }

        internal static EnvironmentInfo AddEnvironment(string name, string graphEndpoint, string azureADEndpoint)
        {
            EnsureCompatible();
            byte[] request = JsonSerializer.SerializeToUtf8Bytes(
                new { name, graphEndpoint, azureADEndpoint }, NativeResult.JsonOptions);
            fixed (byte* requestPointer = request)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_environment_add(requestPointer, (nuint)request.Length, &buffer);
                return NativeResult.TakeOrThrow<EnvironmentInfo>(status, buffer);
            }
        }

        internal static EnvironmentInfo RemoveEnvironment(string name)
        {
            EnsureCompatible();
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            fixed (byte* namePointer = nameBytes)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_environment_remove(namePointer, (nuint)nameBytes.Length, &buffer);
                return NativeResult.TakeOrThrow<EnvironmentInfo>(status, buffer);
            }
        }

        private static bool TryEncode(string text, out byte[] bytes)
        {
            try
            {
                bytes = s_strictUtf8.GetBytes(text);
                return true;
            }
            catch (EncoderFallbackException)
            {
                bytes = Array.Empty<byte>();
                return false;
            }
        }

        private static void EnsureCompatible()
        {
            if (s_abiMismatch.Value is string problem)
            {
                throw new InvalidOperationException(problem);
            }
        }

        private static string? CheckAbi()
        {
            uint actual = NativeMethods.graph_abi_version();
            return actual == ExpectedAbiVersion
                ? null
                : $"The native library at '{NativeLibraryResolver.LibraryPath()}' has ABI version {actual}, but this module needs {ExpectedAbiVersion}: the module folder mixes files of two builds; reinstall the module.";
        }
    }
}
