using System;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>Reads what a native call wrote to its out-buffer, then returns the buffer to Rust.</summary>
    internal static unsafe class NativeResult
    {
        internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

        /// <summary>
        /// Like <see cref="JsonOptions"/>, but a revocation's response headers are skipped unread:
        /// only -ResponseHeadersVariable looks at them, and building them is about half the cost of reading the answer.
        /// </summary>
        internal static readonly JsonSerializerOptions JsonOptionsWithoutResponseHeaders = new(JsonSerializerDefaults.Web)
        {
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { SkipResponseHeaders } },
        };

        /// <summary>The answer of a successful call, or the error of a failed one.</summary>
        internal static (T? Value, NativeError? Error) Take<T>(GraphStatus status, GraphBuffer buffer, JsonSerializerOptions? answerOptions = null)
            where T : class
        {
            try
            {
                // Read straight from Rust's UTF-8 bytes: no detour through a UTF-16 string.
                ReadOnlySpan<byte> json = buffer.ptr == null
                    ? ReadOnlySpan<byte>.Empty
                    : new ReadOnlySpan<byte>(buffer.ptr, checked((int)buffer.len));
                switch (status)
                {
                    case GraphStatus.Ok:
                        return (Deserialize<T>(json, answerOptions ?? JsonOptions), null);
                    case GraphStatus.Error:
                        return (null, Deserialize<NativeError>(json, JsonOptions));
                    default:
                        // Only a defect in this shim can get here (it always passes an out-buffer).
                        throw new InvalidOperationException($"The native library answered status {status} without a result.");
                }
            }
            finally
            {
                NativeMethods.graph_buffer_free(buffer);
            }
        }

        /// <summary>Like <see cref="Take{T}"/>, but a failure becomes a <see cref="NativeErrorException"/>.</summary>
        internal static T TakeOrThrow<T>(GraphStatus status, GraphBuffer buffer)
            where T : class
        {
            (T? value, NativeError? error) = Take<T>(status, buffer);
            if (error is not null)
            {
                throw new NativeErrorException(error);
            }

            return value!;
        }

        private static void SkipResponseHeaders(JsonTypeInfo info)
        {
            if (info.Type == typeof(RevocationOutcome))
            {
                info.Properties.Remove(info.Properties.Single(property => property.Name == "headers"));
            }
        }

        private static T Deserialize<T>(ReadOnlySpan<byte> json, JsonSerializerOptions options)
            where T : class
        {
            return JsonSerializer.Deserialize<T>(json, options)
                ?? throw new InvalidOperationException($"The native library answered JSON that does not describe a {typeof(T).Name}.");
        }
    }
}
