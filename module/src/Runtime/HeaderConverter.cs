using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>Turns a -Headers dictionary into name/value pairs, or says which entry is unusable.</summary>
    internal static class HeaderConverter
    {
        internal static List<string[]> Convert(IDictionary? headers, out string? problem)
        {
            problem = null;
            List<string[]> pairs = new();
            if (headers is null)
            {
                return pairs;
            }

            foreach (DictionaryEntry entry in headers)
            {
                string name = entry.Key?.ToString() ?? string.Empty;
                if (string.IsNullOrWhiteSpace(name))
                {
                    problem = "-Headers has an entry with an empty name: give every header a name.";
                    return pairs;
                }

                if (!TryFormat(entry.Value, out string? value))
                {
                    problem = $"-Headers entry '{name}' has a value of type {Describe(entry.Value)}: header values must be text, numbers, booleans or GUIDs.";
                    return pairs;
                }

                pairs.Add(new[] { name, value! });
            }

            return pairs;
        }

        private static bool TryFormat(object? value, out string? text)
        {
            object? unwrapped = value is PSObject wrapped ? wrapped.BaseObject : value;
            text = unwrapped switch
            {
                string s => s,
                Guid guid => guid.ToString(),
                bool flag => flag ? "true" : "false",
                IFormattable formattable when unwrapped.GetType().IsPrimitive || unwrapped is decimal
                    => formattable.ToString(null, CultureInfo.InvariantCulture),
                _ => null,
            };
            return text is not null;
        }

        private static string Describe(object? value) =>
            value is null ? "null" : (value is PSObject wrapped ? wrapped.BaseObject : value).GetType().Name;
    }
}
