using System;
using System.Collections.Generic;
using System.Linq;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>Response headers in the shape -ResponseHeadersVariable has always had.</summary>
    internal static class ResponseHeaders
    {
        /// <summary>A case-insensitive dictionary of every header (content headers included), values grouped.</summary>
        internal static Dictionary<string, IEnumerable<string>> ToDictionary(IEnumerable<string[]> headers)
        {
            Dictionary<string, IEnumerable<string>> dictionary = new(StringComparer.OrdinalIgnoreCase);
            foreach (IGrouping<string, string[]> group in headers.GroupBy(header => header[0], StringComparer.OrdinalIgnoreCase))
            {
                dictionary[group.Key] = group.Select(header => header[1]).ToArray();
            }

            return dictionary;
        }
    }
}
