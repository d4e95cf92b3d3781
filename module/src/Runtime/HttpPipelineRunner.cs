using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Graph.Beta.PowerShell.Native;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// Runs -HttpPipelinePrepend and -HttpPipelineAppend steps around the real send. Steps are
    /// usually script blocks, which only run on a thread with a runspace, so the whole chain runs
    /// synchronously on the pipeline thread; the send at its end is Rust's (with the token added
    /// there, so no step ever sees it, and only ever sent to the session's Graph endpoint).
    /// </summary>
    internal sealed class HttpPipelineRunner
    {
        private readonly SendAsyncStep[] _steps;

        private HttpPipelineRunner(SendAsyncStep[] steps)
        {
            _steps = steps;
        }

        /// <summary>No steps: every call goes straight to Rust. Shared, as it holds nothing.</summary>
        internal static HttpPipelineRunner None { get; } = new(Array.Empty<SendAsyncStep>());

        internal static HttpPipelineRunner Create(SendAsyncStep[]? prepend, SendAsyncStep[]? append)
        {
            if (prepend is null && append is null)
            {
                return None;
            }

            // Prepended steps come first, then appended ones, then the module's own sender.
            return new HttpPipelineRunner((prepend ?? Array.Empty<SendAsyncStep>())
                .Concat(append ?? Array.Empty<SendAsyncStep>())
                .Where(step => step is not null)
                .ToArray());
        }

        internal bool IsEmpty => _steps.Length == 0;

        internal (RevocationOutcome? Outcome, NativeError? Error) Run(
            SessionHandle session, PreparedRequest prepared, CallOptions options, CancelHandle cancel, CancellationTokenSource stopping)
        {
            using HttpRequestMessage request = ToHttpRequest(prepared);
            Terminal terminal = new(session, options, cancel);
            Listener listener = new(stopping);
            HttpResponseMessage? response;
            try
            {
                // A script step that swallowed an error may return nothing at all.
                Task<HttpResponseMessage>? pending = new Next(_steps, 0, terminal).SendAsync(request, listener);
                response = pending?.GetAwaiter().GetResult();
            }
            catch (Exception failure) when (Find<SendFailure>(failure) is SendFailure sendFailure)
            {
                return (null, sendFailure.Error);
            }
            catch (Exception failure) when (failure is not PipelineStoppedException)
            {
                return (null, new NativeError
                {
                    Kind = "PipelineStep",
                    Message = $"an -HttpPipelinePrepend/-HttpPipelineAppend step failed: {Innermost(failure).Message}",
                });
            }

            // A send that failed inside a script step surfaces as the script's own error, and the
            // step then returns nothing: report the real cause, not the missing response.
            if (terminal.Failure is NativeError sendError && response is null)
            {
                return (null, sendError);
            }

            using (response)
            {
                if (response is null)
                {
                    return (null, new NativeError { Kind = "PipelineStep", Message = "an -HttpPipelinePrepend/-HttpPipelineAppend step returned no response" });
                }

                PreparedRequest finalRequest = FromHttpRequest(response.RequestMessage ?? request);
                RawResponse raw = FromHttpResponse(response);
                raw.Exchange = terminal.LastExchange;
                return GraphCore.InterpretRevocation(finalRequest, raw);
            }
        }

        private static HttpRequestMessage ToHttpRequest(PreparedRequest prepared)
        {
            HttpRequestMessage request = new(new HttpMethod(prepared.Method), new Uri(prepared.Url, UriKind.RelativeOrAbsolute))
            {
                Content = new ByteArrayContent(Encoding.UTF8.GetBytes(prepared.Body)),
            };
            foreach (string[] header in prepared.Headers)
            {
                if (!request.Headers.TryAddWithoutValidation(header[0], header[1]))
                {
                    request.Content.Headers.TryAddWithoutValidation(header[0], header[1]);
                }
            }

            return request;
        }

        private static PreparedRequest FromHttpRequest(HttpRequestMessage request)
        {
            List<string[]> headers = request.Headers
                .Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                // .NET computes Content-Length itself; Rust sets the real one.
                .Where(header => !header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(header => new[] { header.Key, string.Join(", ", header.Value) })
                .ToList();
            return new PreparedRequest
            {
                Method = request.Method.Method,
                // OriginalString: byte for byte what was prepared (or what a step set), no re-escaping.
                Url = request.RequestUri?.OriginalString ?? string.Empty,
                Headers = headers,
                Body = request.Content?.ReadAsStringAsync().GetAwaiter().GetResult() ?? string.Empty,
            };
        }

        private static HttpResponseMessage ToHttpResponse(RawResponse raw, HttpRequestMessage request)
        {
            HttpResponseMessage response = new((HttpStatusCode)raw.Status)
            {
                RequestMessage = request,
                Content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw.Body)),
            };
            foreach (string[] header in raw.Headers)
            {
                if (!response.Headers.TryAddWithoutValidation(header[0], header[1]))
                {
                    response.Content.Headers.TryAddWithoutValidation(header[0], header[1]);
                }
            }

            return response;
        }

        private static RawResponse FromHttpResponse(HttpResponseMessage response)
        {
            return new RawResponse
            {
                Status = (int)response.StatusCode,
                Headers = response.Headers
                    .Concat(response.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                    .SelectMany(header => header.Value.Select(value => new[] { header.Key.ToLowerInvariant(), value }))
                    .ToList(),
                Body = response.Content?.ReadAsStringAsync().GetAwaiter().GetResult() ?? string.Empty,
            };
        }

        private static T? Find<T>(Exception? failure)
            where T : Exception
        {
            for (Exception? current = failure; current is not null; current = current.InnerException)
            {
                if (current is T found)
                {
                    return found;
                }
            }

            return null;
        }

        private static Exception Innermost(Exception failure)
        {
            Exception current = failure;
            while (current.InnerException is not null)
            {
                current = current.InnerException;
            }

            return current;
        }

        /// <summary>The rest of the chain from one position on.</summary>
        private sealed class Next : ISendAsync
        {
            private readonly SendAsyncStep[] _steps;
            private readonly int _index;
            private readonly Terminal _terminal;

            internal Next(SendAsyncStep[] steps, int index, Terminal terminal)
            {
                _steps = steps;
                _index = index;
                _terminal = terminal;
            }

            public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, IEventListener callback)
            {
                return _index < _steps.Length
                    ? _steps[_index](request, callback, new Next(_steps, _index + 1, _terminal))
                    : _terminal.SendAsync(request, callback);
            }
        }

        /// <summary>The module's own sender: hands the request to Rust.</summary>
        private sealed class Terminal : ISendAsync
        {
            private readonly SessionHandle _session;
            private readonly CallOptions _options;
            private readonly CancelHandle _cancel;

            internal Terminal(SessionHandle session, CallOptions options, CancelHandle cancel)
            {
                _session = session;
                _options = options;
                _cancel = cancel;
            }

            internal Exchange? LastExchange { get; private set; }

            internal NativeError? Failure { get; private set; }

            public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, IEventListener callback)
            {
                (RawResponse? raw, NativeError? error) = GraphCore.Send(_session, FromHttpRequest(request), _options, _cancel);
                if (error is not null)
                {
                    Failure = error;
                    throw new SendFailure(error);
                }

                LastExchange = raw!.Exchange;
                return Task.FromResult(ToHttpResponse(raw, request));
            }
        }

        /// <summary>Carries a send failure through the steps back to the runner.</summary>
        private sealed class SendFailure : Exception
        {
            internal SendFailure(NativeError error)
                : base(error.Message)
            {
                Error = error;
            }

            internal NativeError Error { get; }
        }

        private sealed class Listener : IEventListener
        {
            private readonly CancellationTokenSource _stopping;

            internal Listener(CancellationTokenSource stopping)
            {
                _stopping = stopping;
            }

            public CancellationToken Token => _stopping.Token;

            public Action Cancel => _stopping.Cancel;

            public Task Signal(string id, CancellationToken token, Func<EventData> createMessage) => Task.CompletedTask;
        }
    }
}
