using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using Microsoft.Graph.Beta.PowerShell.Models;
using Microsoft.Graph.Beta.PowerShell.Native;
using Microsoft.Graph.Beta.PowerShell.Runtime;

namespace Microsoft.Graph.Beta.PowerShell.Cmdlets
{
    /// <summary>
    /// <para type="synopsis">Sends any Microsoft Graph request with the current sign-in's token.</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "MgGraphRequest", DefaultParameterSetName = UserParameterSet)]
    [Alias("Invoke-GraphRequest", "Invoke-MgRestMethod")]
    public sealed class InvokeMgGraphRequest : PSCmdlet, IDisposable
    {
        #region Parameters

        // The official module's one parameter set, by its name.
        private const string UserParameterSet = "UserParameterSet";

        /// <summary>The HTTP method; GET by default.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 1)]
        public GraphRequestMethod Method { get; set; } = GraphRequestMethod.GET;

        /// <summary>A path relative to the connected Graph endpoint (v1.0/users, beta/me) or a URL on that endpoint.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 2, Mandatory = true)]
        public Uri Uri { get; set; } = null!;

        /// <summary>The request body: a string, a hashtable or object (sent as JSON), a byte array or a stream.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 3, ValueFromPipeline = true)]
        public object? Body { get; set; }

        /// <summary>Extra request headers.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 4)]
        public IDictionary? Headers { get; set; }

        /// <summary>A file the response body is written to.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 5)]
        public string? OutputFilePath { get; set; }

        /// <summary>Writes the response body to a file named by the answer's Content-Disposition header.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 6)]
        public SwitchParameter InferOutputFileName { get; set; }

        /// <summary>A file whose content is sent as the request body.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 7)]
        public string? InputFilePath { get; set; }

        /// <summary>With -OutputFilePath, also writes the answer to the pipeline.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 8)]
        public SwitchParameter PassThru { get; set; }

        /// <summary>Accepted for compatibility: a -ContentType that does not parse is sent as it is.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 10)]
        public SwitchParameter SkipHeaderValidation { get; set; }

        /// <summary>The body's content type; application/json by default for POST, PUT and PATCH.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 11)]
        public string? ContentType { get; set; }

        /// <summary>Name of a variable that receives a new request session (headers and user agent kept between calls).</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 13)]
        [Alias("SV")]
        public string? SessionVariable { get; set; }

        /// <summary>Name of a variable that receives the response headers.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 14)]
        [Alias("RHV")]
        public string? ResponseHeadersVariable { get; set; }

        /// <summary>Name of a variable that receives the HTTP status code.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 15)]
        public string? StatusCodeVariable { get; set; }

        /// <summary>Returns the answer of an HTTP error status instead of a terminating error.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 16)]
        public SwitchParameter SkipHttpErrorCheck { get; set; }

        /// <summary>A request session made by -SessionVariable; its headers and user agent are sent.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 17)]
        public GraphRequestSession? GraphRequestSession { get; set; }

        /// <summary>The User-Agent header to send instead of the module's own.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 18)]
        public string? UserAgent { get; set; }

        /// <summary>What a JSON answer becomes: HashTable (default), PSObject, HttpResponseMessage or Json.</summary>
        [Parameter(ParameterSetName = UserParameterSet, Position = 19)]
        public OutputType OutputType { get; set; } = OutputType.HashTable;

        /// <summary>Waits for a .NET debugger to attach before doing anything.</summary>
        [Parameter(DontShow = true)]
        public SwitchParameter Break { get; set; }

        #endregion

        #region Members

        private readonly CancelHandle _cancel = new();
        private readonly CancellationTokenSource _stopping = new();
        private readonly object _stopLock = new();
        private bool _disposed;
        private CallOptions _options = new(new RequestOptionsJson(), null);

        #endregion

        #region Method Overrides

        /// <inheritdoc/>
        protected override void BeginProcessing()
        {
            if (Break)
            {
                DebuggerWait.WaitForDebugger(this, _stopping.Token);
            }

            if (GraphRequestSession is not null && SessionVariable is not null)
            {
                ThrowInvalidArgument("-SessionVariable and -GraphRequestSession cannot be used together: pass the session of an earlier call with -GraphRequestSession, or create a new one with -SessionVariable.", "InvokeGraphRequestSessionConflictException");
            }

            if (PassThru && OutputFilePath is null)
            {
                ThrowInvalidArgument("-PassThru needs -OutputFilePath: it writes the answer to the pipeline as well as to the file.", "InvokeGraphRequestOutFileMissingException");
            }

            if (InferOutputFileName && !string.IsNullOrWhiteSpace(OutputFilePath))
            {
                ThrowInvalidArgument("-InferOutputFileName and -OutputFilePath cannot be used together: name the file, or let the answer name it.", "InvokeGraphRequestBodyConflictException");
            }

            // A script may hold the preference as a string ($DebugPreference = 'Continue' in a child scope).
            bool trace = MyInvocation.BoundParameters.ContainsKey("Debug")
                || (LanguagePrimitives.TryConvertTo(GetVariableValue("DebugPreference"), out ActionPreference debug)
                    && debug != ActionPreference.SilentlyContinue);
            _options = new CallOptions(new RequestOptionsJson { Trace = trace }, null);
        }

        /// <inheritdoc/>
        protected override void ProcessRecord()
        {
            if (Body is not null && !string.IsNullOrWhiteSpace(InputFilePath))
            {
                ThrowInvalidArgument("-Body and -InputFilePath cannot be used together: send either the body or the file.", "InvokeGraphRequestBodyConflictException");
            }

            SessionHandle? session = GraphSessionState.Session;
            if (session is null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException("Authentication needed. Please call Connect-MgGraph."),
                    GraphErrorRecords.AuthenticationNeededId,
                    ErrorCategory.AuthenticationError,
                    null));
                return;
            }

            GraphRequestSession requestSession = PrepareSession();
            (GraphRequestJson request, byte[] body) = BuildRequest(requestSession);
            WriteVerbose($"{request.Method} {request.Uri} with {body.Length}-byte payload");
            (GraphAnswer? answer, NativeError? error) = GraphCore.Request(session, request, body, _options, _cancel);
            if ((answer?.Exchange ?? error?.Exchange) is Exchange exchange)
            {
                WriteDebug(DebugTrace.Format(exchange));
            }

            if (error is not null)
            {
                if (error.Kind == "Cancelled")
                {
                    return;
                }

                ThrowTerminatingError(GraphErrorRecords.ForOperation(error, ErrorId(error), Uri));
                return;
            }

            WriteResponse(answer!, request.Method);
        }

        /// <summary>Ctrl+C: stops the request in flight; PowerShell runs this on another thread.</summary>
        protected override void StopProcessing()
        {
            lock (_stopLock)
            {
                if (_disposed)
                {
                    return;
                }

                _stopping.Cancel();
                _cancel.Signal();
            }
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            lock (_stopLock)
            {
                _disposed = true;
            }

            _cancel.Dispose();
            _stopping.Dispose();
        }

        #endregion

        #region Private Methods

        /// <summary>The request session of this call: given, or new (and saved in -SessionVariable); -Headers and -UserAgent go into it.</summary>
        private GraphRequestSession PrepareSession()
        {
            GraphRequestSession requestSession = GraphRequestSession ?? new GraphRequestSession();
            if (SessionVariable is not null)
            {
                SessionState.PSVariable.Set(SessionVariable, requestSession);
            }

            if (UserAgent is not null)
            {
                requestSession.UserAgent = UserAgent;
            }

            if (Headers is not null)
            {
                List<string[]> pairs = HeaderConverter.Convert(Headers.Keys.Count == 0 ? null : WithoutNullValues(Headers), out string? problem);
                if (problem is not null)
                {
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem), "InvalidHeader", ErrorCategory.InvalidArgument, Headers));
                }

                foreach (string[] pair in pairs)
                {
                    requestSession.Headers[pair[0]] = pair[1];
                }
            }

            return requestSession;
        }

        /// <summary>The official module ignores a header whose value is null.</summary>
        private static Hashtable WithoutNullValues(IDictionary headers)
        {
            Hashtable kept = new(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry entry in headers)
            {
                if (entry.Value is not null)
                {
                    kept[entry.Key] = entry.Value;
                }
            }

            return kept;
        }

        private (GraphRequestJson Request, byte[] Body) BuildRequest(GraphRequestSession requestSession)
        {
            string method = Method.ToString();
            // The text as given: Rust decides what is relative ("/beta/me" is a file URI to .NET on Unix).
            string uri = Uri.IsAbsoluteUri && !Uri.IsFile ? Uri.AbsoluteUri : Uri.OriginalString;
            object? body = Body;
            if (Method == GraphRequestMethod.GET && GraphRequestBody.IsDictionary(body))
            {
                // As the official module does: a GET's dictionary body is its query string.
                string query = GraphRequestBody.ToQuery(body);
                if (query.Length > 0)
                {
                    uri += (uri.Contains('?') ? "&" : "?") + query;
                }

                body = null;
            }

            List<string[]> headers = new();
            string? headerContentType = null;
            foreach (KeyValuePair<string, string> header in requestSession.Headers)
            {
                if (header.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    headerContentType = header.Value;
                }
                else
                {
                    headers.Add(new[] { header.Key, header.Value });
                }
            }

            bool hasUserAgentHeader = requestSession.Headers.ContainsKey("User-Agent");
            if (!hasUserAgentHeader && requestSession.UserAgent is not null)
            {
                headers.Add(new[] { "User-Agent", requestSession.UserAgent });
            }

            string? contentType = ContentType ?? headerContentType
                ?? (Method is GraphRequestMethod.POST or GraphRequestMethod.PUT or GraphRequestMethod.PATCH ? "application/json" : null);
            if (contentType is not null && !SkipHeaderValidation && !MediaTypeHeaderValue.TryParse(contentType, out _))
            {
                ThrowInvalidArgument($"The content type '{contentType}' is not valid: write it as type/subtype, such as application/json or text/plain; charset=utf-8.", "InvokeGraphContentTypeException");
            }

            byte[] bytes;
            try
            {
                bytes = InputFilePath is not null ? File.ReadAllBytes(ResolveInputFile(InputFilePath)) : GraphRequestBody.ToBytes(body, contentType);
            }
            catch (ArgumentException problem)
            {
                ThrowInvalidArgument(problem.Message, "InvokeGraphRequestBodyConversionFailed");
                throw;
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new IOException($"-InputFilePath '{InputFilePath}' could not be read ({problem.Message}): check that the file exists and is readable.", problem),
                    "InvokeGraphRequestInputFileUnreadable",
                    ErrorCategory.ReadError,
                    InputFilePath));
                throw;
            }

            if (contentType is not null && (bytes.Length > 0 || Method != GraphRequestMethod.GET))
            {
                requestSession.ContentHeaders["Content-Type"] = contentType;
                headers.Add(new[] { "Content-Type", contentType });
            }

            return (new GraphRequestJson { Method = method, Uri = uri, Headers = headers }, bytes);
        }

        private string ResolveInputFile(string path)
        {
            Collection<string> resolved = GetResolvedProviderPathFromPSPath(path, out ProviderInfo provider);
            if (!provider.Name.Equals("FileSystem", StringComparison.OrdinalIgnoreCase) || resolved.Count != 1 || Directory.Exists(resolved[0]))
            {
                ThrowInvalidArgument($"-InputFilePath '{path}' must name exactly one file of the file system.", "InvokeGraphRequestInputFileNotFilePathException");
            }

            return resolved[0];
        }

        private void WriteResponse(GraphAnswer answer, string method)
        {
            string? contentType = Header(answer, "content-type");
            WriteVerbose($"Graph answered HTTP {answer.Status} with {answer.Body.Length} bytes of content type {contentType ?? "none"} (client-request-id: {answer.ClientRequestId}).");
            // Set before the error check, so a script can read them after catching the error.
            if (!string.IsNullOrEmpty(StatusCodeVariable))
            {
                SessionState.PSVariable.Set(StatusCodeVariable, answer.Status);
            }

            if (!string.IsNullOrEmpty(ResponseHeadersVariable))
            {
                SessionState.PSVariable.Set(ResponseHeadersVariable, ResponseHeaders.ToDictionary(answer.Headers));
            }

            if (!SkipHttpErrorCheck && (answer.Status < 200 || answer.Status > 299))
            {
                ThrowTerminatingError(GraphAnswerMessages.HttpError(answer, method, Uri));
            }

            // Files first: -PassThru of an answer that cannot be written to the pipeline must
            // not cost the file.
            bool toFile = !string.IsNullOrEmpty(OutputFilePath);
            if (toFile)
            {
                string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputFilePath);
                SaveBody(path, answer.Body, FileMode.Create);
                WriteVerbose($"Wrote {answer.Body.Length} bytes to '{path}'.");
            }

            if (InferOutputFileName)
            {
                SaveToInferredFile(answer);
            }

            if ((!toFile && !InferOutputFileName) || PassThru)
            {
                WriteBody(answer, method, contentType);
            }
        }

        /// <summary>Writes the answer to a file; a file system refusal is a WriteError naming the path.</summary>
        private void SaveBody(string path, byte[] body, FileMode mode)
        {
            try
            {
                using FileStream file = new(path, mode, FileAccess.Write);
                file.Write(body);
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                string advice = mode == FileMode.CreateNew && File.Exists(path)
                    ? "a file of that name already exists, and a name chosen by the server never replaces one: move it, or use -OutputFilePath"
                    : "check that the folder exists and is writable";
                ThrowTerminatingError(new ErrorRecord(
                    new IOException($"The answer could not be saved to '{path}' ({problem.Message}): {advice}.", problem),
                    "InvokeGraphRequestOutputFileUnwritable",
                    ErrorCategory.WriteError,
                    path));
            }
        }

        private void WriteBody(GraphAnswer answer, string method, string? contentType)
        {
            AnswerKind kind = GraphResponseReader.KindOf(contentType);
            if (kind == AnswerKind.PlainText || (kind == AnswerKind.Json && OutputType == OutputType.Json))
            {
                WriteObject(Text(answer.Body, contentType));
                return;
            }

            if (OutputType == OutputType.HttpResponseMessage)
            {
                WriteObject(GraphAnswerMessages.ToResponseMessage(answer, method, answer.Body));
                return;
            }

            if (kind == AnswerKind.Other)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException($"The answer's content type is {contentType}, which is neither JSON nor text: save it with -OutputFilePath or -InferOutputFileName, or read it with -OutputType HttpResponseMessage."),
                    "InvokeGraphContentTypeException",
                    ErrorCategory.InvalidArgument,
                    Uri));
                return;
            }

            string json = Text(answer.Body, contentType);
            if (string.IsNullOrWhiteSpace(json))
            {
                // 204 No Content and the like: nothing to convert, nothing written.
                return;
            }

            object? converted;
            try
            {
                converted = GraphResponseReader.Convert(json, OutputType == OutputType.HashTable);
            }
            catch (Exception problem) when (problem is System.Text.Json.JsonException or FormatException)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException($"The answer says it is JSON but could not be read as JSON ({problem.Message}): use -OutputType Json to get it as text."),
                    "InvokeGraphRequestInvalidJson",
                    ErrorCategory.InvalidResult,
                    Uri));
                return;
            }

            // As the official module: PSObject output enumerates a top-level array, HashTable output does not.
            WriteObject(converted, OutputType == OutputType.PSObject);
        }

        private void SaveToInferredFile(GraphAnswer answer)
        {
            string? disposition = Header(answer, "content-disposition");
            string? fileName = null;
            if (disposition is not null && ContentDispositionHeaderValue.TryParse(disposition, out ContentDispositionHeaderValue? parsed))
            {
                fileName = (parsed.FileNameStar ?? parsed.FileName)?.Trim('"');
            }

            // Only a name, never a path: the server does not choose where the file goes, nor
            // plant a hidden file such as .bashrc (leading dots are dropped).
            string safeName = string.Concat((fileName ?? string.Empty).Split(Path.GetInvalidFileNameChars())).Trim().TrimStart('.');
            if (safeName.Length == 0)
            {
                WriteError(new ErrorRecord(
                    new InvalidOperationException("The answer has no Content-Disposition file name to save it under: use -OutputFilePath."),
                    "InvokeGraphRequestCouldNotInferFileName",
                    ErrorCategory.InvalidArgument,
                    Uri));
                return;
            }

            string path = Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, safeName);
            SaveBody(path, answer.Body, FileMode.CreateNew);
            WriteVerbose($"Wrote {answer.Body.Length} bytes to '{path}', the file name the answer gave ('{fileName}').");
        }

        private static string Text(byte[] body, string? contentType)
        {
            Encoding encoding = Encoding.UTF8;
            if (GraphRequestBody.CharsetOf(contentType) is string charset)
            {
                try
                {
                    encoding = Encoding.GetEncoding(charset);
                }
                catch (ArgumentException)
                {
                    // An unknown charset: UTF-8, Graph's own.
                }
            }

            return encoding.GetString(body);
        }

        private static string? Header(GraphAnswer answer, string name)
        {
            foreach (string[] header in answer.Headers)
            {
                if (header[0].Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return header[1];
                }
            }

            return null;
        }

        /// <summary>This cmdlet's ids where the shared table speaks of users.</summary>
        private static string ErrorId(NativeError error) => error.Kind switch
        {
            "InvalidArgument" => "InvokeGraphRequestInvalidArgument",
            _ => GraphErrorRecords.ErrorId(error),
        };

        private void ThrowInvalidArgument(string message, string errorId)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, null));
        }

        #endregion
    }
}
