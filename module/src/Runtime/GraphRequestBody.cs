using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Turns Invoke-MgGraphRequest's -Body into bytes the way the official module does, so the same
    /// script sends the same JSON: a dictionary becomes a JSON object (nested dictionaries, arrays
    /// and objects included, no depth cut-off like ConvertTo-Json's default of 2), byte arrays and
    /// streams go as they are, anything else is converted to a string. Where the official module
    /// sends a PSCustomObject or an array as its PowerShell string form ("@{a=1}"), this one sends
    /// JSON, which is what such a script meant; an array of strings only (Get-Content's lines of a
    /// JSON file) is joined with spaces, as the official module sends it.
    /// </summary>
    internal static class GraphRequestBody
    {
        /// <summary>Deeper than any Graph payload; stops a self-referencing object.</summary>
        private const int MaxDepth = 64;

        private static readonly JsonWriterOptions s_writerOptions = new()
        {
            // Like Newtonsoft.Json, which the official module uses: only what JSON requires is escaped.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };

        /// <summary>Whether -Body is a dictionary (a GET then sends it as the query string).</summary>
        internal static bool IsDictionary(object? body) => Unwrap(body) is IDictionary;

        /// <summary>
        /// The body's bytes. <paramref name="contentType"/> may name a charset, which then encodes a
        /// text body (UTF-8 otherwise).
        /// </summary>
        internal static byte[] ToBytes(object? body, string? contentType)
        {
            object? content = Unwrap(body);
            if (content is PSObject { BaseObject: PSCustomObject })
            {
                return ToJson(body);
            }

            switch (content)
            {
                case null:
                    return Array.Empty<byte>();
                case byte[] bytes:
                    return bytes;
                case Stream stream:
                    using (MemoryStream copy = new())
                    {
                        stream.CopyTo(copy);
                        return copy.ToArray();
                    }

                case IDictionary:
                    return ToJson(body);
                case string text:
                    return Encode(text, contentType);
                case IEnumerable lines when AllText(lines):
                    // Get-Content without -Raw: lines of a JSON file. Joined with a space, as
                    // PowerShell (and so the official module) turns a string array into one string.
                    return Encode(string.Join(' ', lines.Cast<object?>().Select(line => (string)Unwrap(line)!)), contentType);
                case IEnumerable when content is not string:
                    return ToJson(body);
                default:
                    string converted = (string)LanguagePrimitives.ConvertTo(content, typeof(string), CultureInfo.InvariantCulture);
                    return Encode(converted, contentType);
            }
        }

        /// <summary>A dictionary as a URL query (<c>a=1&amp;b=x%20y</c>), as the official module sends a GET's -Body.</summary>
        internal static string ToQuery(object? body)
        {
            StringBuilder query = new();
            if (Unwrap(body) is not IDictionary dictionary)
            {
                return string.Empty;
            }

            foreach (DictionaryEntry entry in dictionary)
            {
                if (query.Length > 0)
                {
                    query.Append('&');
                }

                query.Append(WebUtility.UrlEncode(entry.Key?.ToString() ?? string.Empty)).Append('=');
                if (entry.Value is not null)
                {
                    query.Append(WebUtility.UrlEncode(Unwrap(entry.Value)?.ToString() ?? string.Empty));
                }
            }

            return query.ToString();
        }

        /// <summary>The value as compact JSON, UTF-8.</summary>
        internal static byte[] ToJson(object? value)
        {
            using MemoryStream buffer = new();
            using (Utf8JsonWriter writer = new(buffer, s_writerOptions))
            {
                Write(writer, value, 0);
            }

            return buffer.ToArray();
        }

        private static byte[] Encode(string text, string? contentType)
        {
            Encoding encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            if (CharsetOf(contentType) is string charset)
            {
                try
                {
                    encoding = Encoding.GetEncoding(charset);
                }
                catch (ArgumentException)
                {
                    throw new ArgumentException($"-ContentType names the character set '{charset}', which .NET does not know: use utf-8 or leave the charset out.");
                }
            }

            return encoding.GetBytes(text);
        }

        /// <summary>The charset a content type names, unquoted, or null when it names none.</summary>
        internal static string? CharsetOf(string? contentType) =>
            contentType is not null
                && MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? mediaType)
                && !string.IsNullOrEmpty(mediaType.CharSet)
                ? mediaType.CharSet.Trim('"')
                : null;

        /// <summary>A non-empty sequence of strings only.</summary>
        private static bool AllText(IEnumerable items)
        {
            bool any = false;
            foreach (object? item in items)
            {
                if (Unwrap(item) is not string)
                {
                    return false;
                }

                any = true;
            }

            return any;
        }

        private static object? Unwrap(object? value) => value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject ? wrapped.BaseObject : value;

        private static void Write(Utf8JsonWriter writer, object? value, int depth)
        {
            if (depth > MaxDepth)
            {
                throw new ArgumentException($"-Body is nested more than {MaxDepth} levels deep (an object that contains itself?): pass a simpler object or a JSON string.");
            }

            object? content = Unwrap(value);
            switch (content)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case string text:
                    writer.WriteStringValue(text);
                    break;
                case char character:
                    writer.WriteStringValue(character.ToString());
                    break;
                case bool flag:
                    writer.WriteBooleanValue(flag);
                    break;
                case Enum enumValue:
                    // Newtonsoft's default, and so the official module's: the number.
                    writer.WriteRawValue(Convert.ToInt64(enumValue, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                    break;
                case byte or sbyte or short or ushort or int or uint or long or ulong or decimal:
                    writer.WriteRawValue(((IFormattable)content).ToString(null, CultureInfo.InvariantCulture));
                    break;
                case float single:
                    WriteFloating(writer, single);
                    break;
                case double number:
                    WriteFloating(writer, number);
                    break;
                case System.Numerics.BigInteger big:
                    writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                    break;
                case DateTime dateTime:
                    writer.WriteStringValue(dateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK", CultureInfo.InvariantCulture));
                    break;
                case DateTimeOffset offset:
                    writer.WriteStringValue(offset.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFzzz", CultureInfo.InvariantCulture));
                    break;
                case Guid or Uri or TimeSpan:
                    writer.WriteStringValue(content.ToString());
                    break;
                case byte[] bytes:
                    writer.WriteBase64StringValue(bytes);
                    break;
                case IDictionary dictionary:
                    writer.WriteStartObject();
                    foreach (DictionaryEntry entry in dictionary)
                    {
                        writer.WritePropertyName(Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? string.Empty);
                        Write(writer, entry.Value, depth + 1);
                    }

                    writer.WriteEndObject();
                    break;
                case IEnumerable sequence:
                    writer.WriteStartArray();
                    foreach (object? item in sequence)
                    {
                        Write(writer, item, depth + 1);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    WriteProperties(writer, value is PSObject wrapped ? wrapped : PSObject.AsPSObject(content), depth);
                    break;
            }
        }

        /// <summary>A PSCustomObject's note properties, or an object's public properties.</summary>
        private static void WriteProperties(Utf8JsonWriter writer, PSObject value, int depth)
        {
            writer.WriteStartObject();
            HashSet<string> written = new(StringComparer.OrdinalIgnoreCase);
            foreach (PSPropertyInfo property in value.Properties)
            {
                if (!property.IsGettable
                    || property.MemberType is not (PSMemberTypes.NoteProperty or PSMemberTypes.Property)
                    || !written.Add(property.Name))
                {
                    continue;
                }

                object? propertyValue;
                try
                {
                    propertyValue = property.Value;
                }
                catch (GetValueException)
                {
                    continue;
                }

                writer.WritePropertyName(property.Name);
                Write(writer, propertyValue, depth + 1);
            }

            writer.WriteEndObject();
        }

        private static void WriteFloating(Utf8JsonWriter writer, double number)
        {
            if (double.IsNaN(number) || double.IsInfinity(number))
            {
                writer.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
                return;
            }

            string text = number.ToString("R", CultureInfo.InvariantCulture);
            // Newtonsoft writes 1.0 for a whole double, keeping it a floating-point number.
            if (text.IndexOfAny(new[] { '.', 'E', 'e' }) < 0)
            {
                text += ".0";
            }

            writer.WriteRawValue(text);
        }
    }
}
