using System.Management.Automation;
using System.Net;
using System.Text;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// The one table from engine errors to PowerShell ErrorRecords: error id, category, target
    /// and a message that carries what support needs (status, code, request-id, client-request-id, date).
    /// </summary>
    internal static class GraphErrorRecords
    {
        /// <summary>Error id when no sign-in context exists (terminating).</summary>
        internal const string AuthenticationNeededId = "AuthenticationNeeded";

        /// <summary>Builds the ErrorRecord for a failure of one user's call.</summary>
        internal static ErrorRecord ForUser(NativeError error, string userId)
        {
            string message = Describe(error, userId);
            GraphRequestException exception = new(message, error.Kind)
            {
                UserId = userId,
                StatusCode = error.Status,
                Code = error.Code,
                RequestId = error.RequestId,
                ClientRequestId = error.ClientRequestId,
                Date = error.Date,
            };
            ErrorRecord record = new(exception, ErrorId(error), Category(error), userId);
            record.ErrorDetails = new ErrorDetails(message);
            return record;
        }

        /// <summary>Builds the ErrorRecord for a failure that concerns no particular user.</summary>
        internal static ErrorRecord ForOperation(NativeError error, string errorId, object? target)
        {
            GraphRequestException exception = new(error.Message, error.Kind)
            {
                StatusCode = error.Status,
                Code = error.Code,
                RequestId = error.RequestId,
                ClientRequestId = error.ClientRequestId,
                Date = error.Date,
            };
            return new ErrorRecord(exception, errorId, Category(error), target);
        }

        /// <summary>The official module's message shape, <c>[code] : message</c>, then the trace fields.</summary>
        internal static string Describe(NativeError error, string userId)
        {
            StringBuilder message = new();
            if (error.Code is not null)
            {
                message.Append('[').Append(error.Code).Append("] : ");
            }

            message.Append(error.Message);
            message.Append(" (user: '").Append(userId).Append('\'');
            if (error.Status is int status)
            {
                message.Append("; HTTP ").Append(status);
                if (System.Enum.IsDefined(typeof(HttpStatusCode), status))
                {
                    message.Append(' ').Append((HttpStatusCode)status);
                }
            }

            AppendField(message, "request-id", error.RequestId);
            AppendField(message, "client-request-id", error.ClientRequestId);
            AppendField(message, "date", error.Date);
            message.Append(')');
            return message.ToString();
        }

        private static void AppendField(StringBuilder message, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                message.Append("; ").Append(name).Append(": ").Append(value);
            }
        }

        /// <summary>Graph errors keep Graph's code as the id, as the official module does.</summary>
        internal static string ErrorId(NativeError error)
        {
            return error.Kind switch
            {
                "Graph" => error.Code ?? "UnknownError",
                "InvalidArgument" => "InvalidUserId",
                "NotConnected" => AuthenticationNeededId,
                "Authentication" => "AuthenticationFailed",
                "Network" => "GraphUnreachable",
                "ProxyAuthentication" => "ProxyAuthenticationRequired",
                "Timeout" => "GraphTimeout",
                "Cancelled" => "OperationCancelled",
                "PipelineStep" => "HttpPipelineStepFailed",
                "UnexpectedResponse" => "UnexpectedGraphResponse",
                "RedirectRefused" => "RedirectRefused",
                "InvalidHeader" => "InvalidHeader",
                "RevocationNotConfirmed" => "RevocationNotConfirmed",
                "JournalRefused" => "JournalPathRefused",
                "JournalIo" => "JournalWriteFailed",
                "OutsideGraphEndpoint" => "OutsideGraphEndpoint",
                _ => "InternalError",
            };
        }

        private static ErrorCategory Category(NativeError error)
        {
            return error.Kind switch
            {
                // The official module reports every Graph error as InvalidOperation; scripts rely on it.
                "Graph" => ErrorCategory.InvalidOperation,
                "InvalidArgument" => ErrorCategory.InvalidArgument,
                "NotConnected" or "Authentication" => ErrorCategory.AuthenticationError,
                "Network" => ErrorCategory.ConnectionError,
                "ProxyAuthentication" => ErrorCategory.AuthenticationError,
                "Timeout" => ErrorCategory.OperationTimeout,
                "Cancelled" => ErrorCategory.OperationStopped,
                "PipelineStep" => ErrorCategory.InvalidOperation,
                // Not Graph's answer: nothing can be concluded from it, least of all success.
                "UnexpectedResponse" => ErrorCategory.InvalidResult,
                // A server tried to send the request (and its credential) somewhere else.
                "RedirectRefused" => ErrorCategory.SecurityError,
                "InvalidHeader" => ErrorCategory.InvalidArgument,
                // The read-back did not show the revocation: the result cannot be trusted yet.
                "RevocationNotConfirmed" => ErrorCategory.InvalidResult,
                "JournalRefused" => ErrorCategory.InvalidArgument,
                "JournalIo" => ErrorCategory.WriteError,
                // Invoke-MgGraphRequest -Uri on another host: the token would have gone there.
                "OutsideGraphEndpoint" => ErrorCategory.SecurityError,
                _ => ErrorCategory.NotSpecified,
            };
        }
    }
}
