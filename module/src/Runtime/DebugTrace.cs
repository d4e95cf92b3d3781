using System.Text;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>Formats an exchange for -Debug. Rust already redacted every credential in it.</summary>
    internal static class DebugTrace
    {
        internal static string Format(Exchange exchange)
        {
            StringBuilder text = new();
            text.Append("HTTP request: ").Append(exchange.Method).Append(' ').AppendLine(exchange.Url);
            foreach (string[] header in exchange.RequestHeaders)
            {
                text.Append("  ").Append(header[0]).Append(": ").AppendLine(header[1]);
            }

            text.Append("HTTP response: ").Append(exchange.Status).Append(" (").Append(exchange.ElapsedMs).AppendLine(" ms)");
            foreach (string[] header in exchange.ResponseHeaders)
            {
                text.Append("  ").Append(header[0]).Append(": ").AppendLine(header[1]);
            }

            if (exchange.ResponseBody.Length > 0)
            {
                text.Append("  ").Append(exchange.ResponseBody);
            }

            return text.ToString().TrimEnd();
        }
    }
}
