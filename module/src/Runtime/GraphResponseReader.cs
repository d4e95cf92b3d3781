using System;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>What kind of body an answer has, by its content type, as the official module decides it.</summary>
    internal enum AnswerKind
    {
        /// <summary>JSON, or no content type at all.</summary>
        Json,

        /// <summary><c>text/plain</c>: written as a string.</summary>
        PlainText,

        /// <summary>Anything else (binary, images, XML): only a file or -OutputType HttpResponseMessage takes it.</summary>
        Other,
    }

    /// <summary>
    /// Reads Graph's JSON the way the official module (Newtonsoft.Json) does, so scripts see the
    /// same values: objects become case-insensitive hashtables (or PSCustomObjects), arrays
    /// object[], whole numbers Int64 (BigInteger beyond), other numbers Double, and ISO 8601 date
    /// strings DateTime (UTC for a <c>Z</c>, local for an offset).
    /// </summary>
    internal static class GraphResponseReader
    {
        private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 256 };

        // Newtonsoft's ISO 8601 shape: date, time with seconds, optional fraction and zone.
        private static readonly Regex s_isoDate = new(
            @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?$",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);

        internal static AnswerKind KindOf(string? contentType)
        {
            string mediaType = (contentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
            return mediaType switch
            {
                "" or "application/json" or "text/json" or "application/x-javascript" or "text/x-javascript"
                    or "application/javascript" or "text/javascript" => AnswerKind.Json,
                _ when mediaType.EndsWith("+json", StringComparison.Ordinal) => AnswerKind.Json,
                "text/plain" => AnswerKind.PlainText,
                _ => AnswerKind.Other,
            };
        }

        /// <summary>The JSON text as hashtables (<paramref name="asHashtable"/>) or PSCustomObjects.</summary>
        internal static object? Convert(string json, bool asHashtable)
        {
            using JsonDocument document = JsonDocument.Parse(json, s_options);
            return Value(document.RootElement, asHashtable);
        }

        private static object? Value(JsonElement element, bool asHashtable)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    return asHashtable ? Hashtable(element) : Object(element);
                case JsonValueKind.Array:
                    object?[] items = new object?[element.GetArrayLength()];
                    int index = 0;
                    foreach (JsonElement item in element.EnumerateArray())
                    {
                        items[index++] = Value(item, asHashtable);
                    }

                    return items;
                case JsonValueKind.String:
                    string text = element.GetString()!;
                    return s_isoDate.IsMatch(text)
                        && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTime date)
                        ? date
                        : text;
                case JsonValueKind.Number:
                    if (element.TryGetInt64(out long whole))
                    {
                        return whole;
                    }

                    string raw = element.GetRawText();
                    return raw.IndexOfAny(new[] { '.', 'e', 'E' }) < 0
                        ? BigInteger.Parse(raw, CultureInfo.InvariantCulture)
                        : element.GetDouble();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                default:
                    return null;
            }
        }

        private static Hashtable Hashtable(JsonElement element)
        {
            Hashtable table = new(StringComparer.OrdinalIgnoreCase);
            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (table.ContainsKey(property.Name))
                {
                    throw DuplicateKey(property.Name);
                }

                table.Add(property.Name, Value(property.Value, asHashtable: true));
            }

            return table;
        }

        private static PSObject Object(JsonElement element)
        {
            PSObject result = new();
            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (string.IsNullOrEmpty(property.Name))
                {
                    throw new FormatException("The answer has a JSON property with an empty name, which a PSObject cannot hold: use -OutputType HashTable.");
                }

                if (result.Properties[property.Name] is not null)
                {
                    throw DuplicateKey(property.Name);
                }

                result.Properties.Add(new PSNoteProperty(property.Name, Value(property.Value, asHashtable: false)));
            }

            return result;
        }

        private static FormatException DuplicateKey(string name) =>
            new($"The answer has the JSON property '{name}' twice (names differing only in case count as the same): use -OutputType Json to read it as text.");
    }
}
