using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using Microsoft.Graph.Beta.PowerShell.Models;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Invoke-MgGraphRequest's answers in .NET shapes: the HttpResponseMessage of
    /// -OutputType HttpResponseMessage, and the ErrorRecord of an HTTP error status.
    /// </summary>
    internal static class GraphAnswerMessages
    {
        /// <summary>Error id of an HTTP error status, as the official module names it.</summary>
        internal const string HttpErrorId = "InvokeGraphHttpResponseException";

        // Headers .NET keeps on the content rather than on the response.
        private static readonly HashSet<string> s_contentHeaders = new(StringComparer.OrdinalIgnoreCase)
        {
            "Allow", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
            "Content-Location", "Content-MD5", "Content-Range", "Content-Type", "Expires", "Last-Modified",
        };

        /// <summary>The answer as an HttpResponseMessage whose content is <paramref name="body"/>.</summary>
        internal static HttpResponseMessage ToResponseMessage(GraphAnswer answer, string method, byte[] body)
        {
            HttpResponseMessage response = new((HttpStatusCode)answer.Status)
            {
                Content = new ByteArrayContent(body),
                RequestMessage = new HttpRequestMessage(new HttpMethod(method), answer.Url),
            };
            foreach (string[] header in answer.Headers)
            {
                if (s_contentHeaders.Contains(header[0]))
                {
                    if (!header[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    {
                        response.Content.Headers.TryAddWithoutValidation(header[0], header[1]);
                    }
                }
                else
                {
                    response.Headers.TryAddWithoutValidation(header[0], header[1]);
                }
            }

            return response;
        }

        /// <summary>
        /// The terminating error of an HTTP error status: the message in this module's shape,
        /// <c>[code] : message (HTTP 404 NotFound; request-id: ...)</c>, and ErrorDetails holding
        /// Graph's error document (cleaned) so <c>$_.ErrorDetails.Message | ConvertFrom-Json</c>
        /// works as with the official module.
        /// </summary>
        internal static ErrorRecord HttpError(GraphAnswer answer, string method, Uri target)
        {
            NativeError error = answer.Error ?? new NativeError { Kind = "Graph", Message = $"Graph answered HTTP {answer.Status}", Status = answer.Status };
            byte[] document = Document(error);
            HttpResponseMessage response = ToResponseMessage(answer, method, document);
            GraphHttpResponseException exception = new(Describe(error, answer.Status), response)
            {
                Code = error.Code,
                RequestId = error.RequestId,
                ClientRequestId = error.ClientRequestId ?? answer.ClientRequestId,
                Date = error.Date,
            };
            return new ErrorRecord(exception, HttpErrorId, ErrorCategory.InvalidOperation, target)
            {
                ErrorDetails = new ErrorDetails(Encoding.UTF8.GetString(document)),
            };
        }

        private static string Describe(NativeError error, int status)
        {
            StringBuilder message = new();
            if (error.Code is not null)
            {
                message.Append('[').Append(error.Code).Append("] : ");
            }

            message.Append(error.Message).Append(" (HTTP ").Append(status);
            if (Enum.IsDefined(typeof(HttpStatusCode), status))
            {
                message.Append(' ').Append((HttpStatusCode)status);
            }

            Append(message, "request-id", error.RequestId);
            Append(message, "client-request-id", error.ClientRequestId);
            Append(message, "date", error.Date);
            return message.Append(')').ToString();
        }

        private static void Append(StringBuilder message, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                message.Append("; ").Append(name).Append(": ").Append(value);
            }
        }

        /// <summary>Graph's error document rebuilt from the cleaned fields.</summary>
        private static byte[] Document(NativeError error)
        {
            Dictionary<string, string> inner = new();
            if (error.Date is not null)
            {
                inner["date"] = error.Date;
            }

            if (error.RequestId is not null)
            {
                inner["request-id"] = error.RequestId;
            }

            if (error.ClientRequestId is not null)
            {
                inner["client-request-id"] = error.ClientRequestId;
            }

            return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["error"] = new Dictionary<string, object>
                {
                    ["code"] = error.Code ?? "UnknownError",
                    ["message"] = error.Message,
                    ["innerError"] = inner,
                },
            });
        }
    }
}
