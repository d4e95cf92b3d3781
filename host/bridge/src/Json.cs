using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Text.Json;

namespace PwshHost.Bridge
{
    /// <summary>
    /// JSON that touches no PowerShell type: failure messages and the conversion of request
    /// values to .NET objects. Safe to use before PowerShell's assemblies are resolvable.
    /// </summary>
    internal static class Json
    {
        internal static byte[] Failure(string kind, string message) =>
            Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("kind", kind);
                writer.WriteString("message", message);
                writer.WriteEndObject();
            });

        internal static byte[] Write(Action<Utf8JsonWriter> write)
        {
            ArrayBufferWriter<byte> buffer = new(256);
            using (Utf8JsonWriter writer = new(buffer, new JsonWriterOptions { SkipValidation = false }))
            {
                write(writer);
            }

            return buffer.WrittenSpan.ToArray();
        }

        /// <summary>
        /// A JSON value as PowerShell would have written it: strings, int/long/double, bool, null,
        /// arrays as <c>object[]</c> and objects as case-insensitive hashtables (like <c>@{}</c>).
        /// </summary>
        internal static object? ToValue(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    return element.GetString();
                case JsonValueKind.Number:
                    if (element.TryGetInt32(out int i))
                    {
                        return i;
                    }

                    if (element.TryGetInt64(out long l))
                    {
                        return l;
                    }

                    return element.GetDouble();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                case JsonValueKind.Array:
                    List<object?> items = new();
                    foreach (JsonElement item in element.EnumerateArray())
                    {
                        items.Add(ToValue(item));
                    }

                    return items.ToArray();
                case JsonValueKind.Object:
                    Hashtable table = new(StringComparer.OrdinalIgnoreCase);
                    foreach (JsonProperty property in element.EnumerateObject())
                    {
                        table[property.Name] = ToValue(property.Value);
                    }

                    return table;
                default:
                    return null;
            }
        }
    }
}
