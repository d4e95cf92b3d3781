using System;
using System.Runtime.CompilerServices;
using System.Security;
using System.Text;
using System.Text.Json;
using Microsoft.Graph.Beta.PowerShell.Models;

namespace Microsoft.Graph.Beta.PowerShell.Native
{
    /// <summary>
    /// The typed face of the Rust core: marshals arguments to UTF-8, calls the generated
    /// P/Invoke declarations and turns their JSON answers into objects. Nothing else in the
    /// shim touches a pointer.
    /// </summary>
    internal static unsafe class GraphCore
    {
        /// <summary>Must equal <c>GRAPH_ABI_VERSION</c> in crates/graph-ffi/src/status.rs.</summary>
        internal const uint ExpectedAbiVersion = 8;

        // Strict: a string with a lone surrogate must not silently become a different id.
        private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        private static readonly Lazy<string?> s_abiMismatch = new(CheckAbi);

        internal static (SessionHandle Session, ContextInfo Context) OpenWithAccessToken(SessionConfig config, SecureString token)
        {
            EnsureCompatible();
            byte[] configJson = JsonSerializer.SerializeToUtf8Bytes(config, NativeResult.JsonOptions);
            using SecretBytes tokenBytes = new(token);
            fixed (byte* tokenPointer = tokenBytes.Bytes)
            fixed (byte* configPointer = configJson)
            {
                GraphSession* session = null;
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_session_open_with_access_token(
                    configPointer, (nuint)configJson.Length, tokenPointer, (nuint)tokenBytes.Bytes.Length, &session, &buffer);
                ContextInfo context = NativeResult.TakeOrThrow<ContextInfo>(status, buffer);
                return (new SessionHandle(session), context);
            }
        }

        /// <summary>Signs in app-only with a client secret; blocks until Entra answers or <paramref name="cancel"/> fires.</summary>
        internal static (SessionHandle Session, ContextInfo Context) OpenWithClientSecret(AppSignInConfig config, SecureString secret, CancelHandle cancel)
        {
            using SecretBytes secretBytes = new(secret);
            return OpenAppOnly(config, secretBytes.Bytes, secretBytes.Bytes.Length, cancel, &NativeMethods.graph_session_open_with_client_secret);
        }

        /// <summary>
        /// Signs in app-only with a certificate. <paramref name="privateKey"/> holds the PKCS#8 key in
        /// its first <paramref name="privateKeyLength"/> bytes; the caller pins and wipes it.
        /// </summary>
        internal static (SessionHandle Session, ContextInfo Context) OpenWithCertificate(
            AppSignInConfig config, byte[] privateKey, int privateKeyLength, CancelHandle cancel)
            => OpenAppOnly(config, privateKey, privateKeyLength, cancel, &NativeMethods.graph_session_open_with_certificate);

        /// <summary>Signs in with the Azure resource's managed identity; blocks until its endpoint answers or <paramref name="cancel"/> fires.</summary>
        internal static (SessionHandle Session, ContextInfo Context) OpenWithManagedIdentity(AppSignInConfig config, SecureString? identityHeader, CancelHandle cancel)
        {
            using SecretBytes header = new(identityHeader);
            return OpenAppOnly(config, header.Bytes, header.Bytes.Length, cancel, &NativeMethods.graph_session_open_with_managed_identity);
        }

        /// <summary>
        /// The app-only sign-ins share one export shape: the configuration as JSON, one secret
        /// (pinned here, owned and wiped by the caller), a cancel handle, the session out.
        /// </summary>
        private static (SessionHandle Session, ContextInfo Context) OpenAppOnly(
            AppSignInConfig config,
            byte[] secret,
            int secretLength,
            CancelHandle cancel,
            delegate*<byte*, nuint, byte*, nuint, GraphCancel*, GraphSession**, GraphBuffer*, GraphStatus> open)
        {
            EnsureCompatible();
            byte[] configJson = JsonSerializer.SerializeToUtf8Bytes(config, NativeResult.JsonOptions);
            using HandleLease cancelLease = new(cancel);
            fixed (byte* secretPointer = secret)
            fixed (byte* configPointer = configJson)
            {
                GraphSession* session = null;
                GraphBuffer buffer = default;
                GraphStatus status = open(
                    configPointer, (nuint)configJson.Length, secretPointer, (nuint)secretLength, (GraphCancel*)cancelLease.Pointer, &session, &buffer);
                ContextInfo context = NativeResult.TakeOrThrow<ContextInfo>(status, buffer);
                return (new SessionHandle(session), context);
            }
        }

        /// <summary>Asks Entra for a device code (delegated sign-in); the prompt says what the user must do.</summary>
        internal static (DeviceCodeHandle Pending, DeviceCodePrompt Prompt) StartDeviceCode(DelegatedSignInConfig config, CancelHandle cancel)
        {
            EnsureCompatible();
            byte[] configJson = JsonSerializer.SerializeToUtf8Bytes(config, NativeResult.JsonOptions);
            using HandleLease cancelLease = new(cancel);
            fixed (byte* configPointer = configJson)
            {
                GraphDeviceCode* pending = null;
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_device_code_start(
                    configPointer, (nuint)configJson.Length, (GraphCancel*)cancelLease.Pointer, &pending, &buffer);
                DeviceCodePrompt prompt = NativeResult.TakeOrThrow<DeviceCodePrompt>(status, buffer);
                return (new DeviceCodeHandle(pending), prompt);
            }
        }

        /// <summary>Waits until the user signed in with the device code; <paramref name="cancel"/> (Ctrl+C) stops the wait.</summary>
        internal static (SessionHandle Session, ContextInfo Context) CompleteDeviceCode(DeviceCodeHandle pending, CancelHandle cancel)
        {
            EnsureCompatible();
            using HandleLease pendingLease = new(pending);
            using HandleLease cancelLease = new(cancel);
            GraphSession* session = null;
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_device_code_complete(
                (GraphDeviceCode*)pendingLease.Pointer, (GraphCancel*)cancelLease.Pointer, &session, &buffer);
            ContextInfo context = NativeResult.TakeOrThrow<ContextInfo>(status, buffer);
            return (new SessionHandle(session), context);
        }

        /// <summary>Signs in silently from the CurrentUser token cache; Session is null when nothing usable is saved.</summary>
        internal static (SessionHandle? Session, CachedSignInAnswer Answer) OpenFromCache(DelegatedSignInConfig config, CancelHandle cancel)
        {
            EnsureCompatible();
            byte[] configJson = JsonSerializer.SerializeToUtf8Bytes(config, NativeResult.JsonOptions);
            using HandleLease cancelLease = new(cancel);
            fixed (byte* configPointer = configJson)
            {
                GraphSession* session = null;
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_session_open_from_cache(
                    configPointer, (nuint)configJson.Length, (GraphCancel*)cancelLease.Pointer, &session, &buffer);
                CachedSignInAnswer answer = NativeResult.TakeOrThrow<CachedSignInAnswer>(status, buffer);
                return (answer.Context is null ? null : new SessionHandle(session), answer);
            }
        }

        /// <summary>Signs a session out: a delegated sign-in forgets its refresh token, on disk too.</summary>
        internal static void ForgetSession(SessionHandle session)
        {
            EnsureCompatible();
            using HandleLease lease = new(session);
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_session_forget((GraphSession*)lease.Pointer, &buffer);
            NativeResult.TakeOrThrow<Empty>(status, buffer);
        }

        internal static ContextInfo Context(SessionHandle session)
        {
            EnsureCompatible();
            using HandleLease lease = new(session);
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_session_context((GraphSession*)lease.Pointer, &buffer);
            return NativeResult.TakeOrThrow<ContextInfo>(status, buffer);
        }

        /// <summary>
        /// Revokes one user's sessions with <paramref name="action"/>. A null session reports
        /// NotConnected from Rust. The outcome's response headers are read only when
        /// <paramref name="withResponseHeaders"/> is set.
        /// </summary>
        internal static (RevocationOutcome? Outcome, NativeError? Error) Revoke(
            SessionHandle? session, RevocationAction action, string userId, CallOptions options, CancelHandle cancel, bool withResponseHeaders)
        {
            EnsureCompatible();
            if (!TryEncode(userId, out byte[] userIdBytes))
            {
                return (null, UnpairedSurrogate());
            }

            return CallWithOptions<(byte[] Action, byte[] User), RevocationOutcome>(
                session,
                options,
                options.ProxyPassword,
                cancel,
                (Encoding.UTF8.GetBytes(action.WireName()), userIdBytes),
                withResponseHeaders ? NativeResult.JsonOptions : NativeResult.JsonOptionsWithoutResponseHeaders,
                static ((byte[] Action, byte[] User) subject, in OptionsCall call, GraphBuffer* buffer) =>
                {
                    fixed (byte* actionPointer = subject.Action)
                    fixed (byte* userPointer = subject.User)
                    {
                        return NativeMethods.graph_revoke(
                            call.Session,
                            actionPointer,
                            (nuint)subject.Action.Length,
                            userPointer,
                            (nuint)subject.User.Length,
                            call.Options,
                            call.OptionsLength,
                            call.Password,
                            call.PasswordLength,
                            call.Cancel,
                            buffer);
                    }
                });
        }

        /// <summary>The request that would revoke one user, for the script pipeline steps to see.</summary>
        internal static (PreparedRequest? Request, NativeError? Error) PrepareRevocation(
            SessionHandle? session, RevocationAction action, string userId, CallOptions options)
        {
            EnsureCompatible();
            if (!TryEncode(userId, out byte[] userIdBytes))
            {
                return (null, UnpairedSurrogate());
            }

            // Preparing sends nothing, so the proxy password stays where it is.
            return CallWithOptions<(byte[] Action, byte[] User), PreparedRequest>(
                session,
                options,
                null,
                null,
                (Encoding.UTF8.GetBytes(action.WireName()), userIdBytes),
                NativeResult.JsonOptions,
                static ((byte[] Action, byte[] User) subject, in OptionsCall call, GraphBuffer* buffer) =>
                {
                    fixed (byte* actionPointer = subject.Action)
                    fixed (byte* userPointer = subject.User)
                    {
                        return NativeMethods.graph_prepare_revocation(
                            call.Session,
                            actionPointer,
                            (nuint)subject.Action.Length,
                            userPointer,
                            (nuint)subject.User.Length,
                            call.Options,
                            call.OptionsLength,
                            buffer);
                    }
                });
        }

        /// <summary>Sends a (possibly step-modified) request with the session's credential.</summary>
        internal static (RawResponse? Response, NativeError? Error) Send(
            SessionHandle? session, PreparedRequest request, CallOptions options, CancelHandle cancel)
        {
            EnsureCompatible();
            byte[] requestJson = JsonSerializer.SerializeToUtf8Bytes(request, NativeResult.JsonOptions);
            return CallWithOptions<byte[], RawResponse>(
                session,
                options,
                options.ProxyPassword,
                cancel,
                requestJson,
                NativeResult.JsonOptions,
                static (byte[] json, in OptionsCall call, GraphBuffer* buffer) =>
                {
                    fixed (byte* requestPointer = json)
                    {
                        return NativeMethods.graph_send(
                            call.Session, requestPointer, (nuint)json.Length, call.Options, call.OptionsLength, call.Password, call.PasswordLength, call.Cancel, buffer);
                    }
                });
        }

        /// <summary>
        /// Sends one Invoke-MgGraphRequest call: Rust resolves the URI on the session's Graph
        /// endpoint (refusing any other origin) and answers whatever status Graph gave.
        /// </summary>
        internal static (Models.GraphAnswer? Answer, NativeError? Error) Request(
            SessionHandle? session, Models.GraphRequestJson request, byte[] body, CallOptions options, CancelHandle cancel)
        {
            EnsureCompatible();
            byte[] requestJson = JsonSerializer.SerializeToUtf8Bytes(request, NativeResult.JsonOptions);
            return CallWithOptions<(byte[] Request, byte[] Body), Models.GraphAnswer>(
                session,
                options,
                options.ProxyPassword,
                cancel,
                (requestJson, body),
                NativeResult.JsonOptions,
                static ((byte[] Request, byte[] Body) state, in OptionsCall call, GraphBuffer* buffer) =>
                {
                    fixed (byte* requestPointer = state.Request)
                    fixed (byte* bodyPointer = state.Body)
                    {
                        return NativeMethods.graph_request(
                            call.Session,
                            requestPointer,
                            (nuint)state.Request.Length,
                            bodyPointer,
                            (nuint)state.Body.Length,
                            call.Options,
                            call.OptionsLength,
                            call.Password,
                            call.PasswordLength,
                            call.Cancel,
                            buffer);
                    }
                });
        }

        /// <summary>Reads the final response of a revocation (after the pipeline steps).</summary>
        internal static (RevocationOutcome? Outcome, NativeError? Error) InterpretRevocation(PreparedRequest request, RawResponse response)
        {
            EnsureCompatible();
            byte[] requestJson = JsonSerializer.SerializeToUtf8Bytes(request, NativeResult.JsonOptions);
            byte[] responseJson = JsonSerializer.SerializeToUtf8Bytes(response, NativeResult.JsonOptions);
            fixed (byte* requestPointer = requestJson)
            fixed (byte* responsePointer = responseJson)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_interpret_revocation(
                    requestPointer, (nuint)requestJson.Length, responsePointer, (nuint)responseJson.Length, &buffer);
                return NativeResult.Take<RevocationOutcome>(status, buffer);
            }
        }

        /// <summary>
        /// Starts a bulk run of <paramref name="settings"/>' action, with -Verify and -JournalPath
        /// if set; the journal is opened here, so a refused path throws.
        /// </summary>
        internal static (BulkHandle Handle, BulkStarted Started) StartBulk(SessionHandle session, CallOptions options, BulkRunSettings settings)
        {
            EnsureCompatible();
            byte[] settingsJson = JsonSerializer.SerializeToUtf8Bytes(settings, NativeResult.JsonOptions);
            StrongBox<(IntPtr Handle, byte[] Settings)> started = new((IntPtr.Zero, settingsJson));
            (BulkStarted? answer, NativeError? error) = CallWithOptions<StrongBox<(IntPtr Handle, byte[] Settings)>, BulkStarted>(
                session,
                options,
                options.ProxyPassword,
                null,
                started,
                NativeResult.JsonOptions,
                static (StrongBox<(IntPtr Handle, byte[] Settings)> started, in OptionsCall call, GraphBuffer* buffer) =>
                {
                    GraphBulk* bulk = null;
                    byte[] settings = started.Value.Settings;
                    fixed (byte* settingsPointer = settings)
                    {
                        GraphStatus status = NativeMethods.graph_bulk_start(
                            call.Session, call.Options, call.OptionsLength, call.Password, call.PasswordLength, settingsPointer, (nuint)settings.Length, &bulk, buffer);
                        started.Value = ((IntPtr)bulk, settings);
                        return status;
                    }
                });
            if (error is not null)
            {
                throw new NativeErrorException(error);
            }

            return (new BulkHandle((GraphBulk*)started.Value.Handle), answer!);
        }

        /// <summary>Queues one user; a problem known before sending comes back as an error.</summary>
        internal static NativeError? SubmitBulk(BulkHandle bulk, long seq, string userId, System.Collections.Generic.List<string[]> headers)
        {
            if (!TryEncode(userId, out byte[] userIdBytes))
            {
                return UnpairedSurrogate();
            }

            byte[] headersJson = JsonSerializer.SerializeToUtf8Bytes(headers, NativeResult.JsonOptions);
            using HandleLease lease = new(bulk);
            fixed (byte* userIdPointer = userIdBytes)
            fixed (byte* headersPointer = headersJson)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_bulk_submit(
                    (GraphBulk*)lease.Pointer, (ulong)seq, userIdPointer, (nuint)userIdBytes.Length, headersPointer, (nuint)headersJson.Length, &buffer);
                return NativeResult.Take<Empty>(status, buffer).Error;
            }
        }

        internal static void CloseBulk(BulkHandle bulk)
        {
            using HandleLease lease = new(bulk);
            NativeMethods.graph_bulk_close((GraphBulk*)lease.Pointer);
        }

        /// <summary>Stops sending; called from StopProcessing on another thread.</summary>
        internal static void CancelBulk(BulkHandle bulk)
        {
            using HandleLease lease = new(bulk);
            NativeMethods.graph_bulk_cancel((GraphBulk*)lease.Pointer);
        }

        internal static BulkPoll PollBulk(BulkHandle bulk, uint maxWaitMilliseconds, uint maxItems)
        {
            using HandleLease lease = new(bulk);
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_bulk_poll((GraphBulk*)lease.Pointer, maxWaitMilliseconds, maxItems, &buffer);
            return NativeResult.TakeOrThrow<BulkPoll>(status, buffer);
        }

        internal static RequestContextInfo GetRequestContext()
        {
            EnsureCompatible();
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_request_context_get(&buffer);
            return NativeResult.TakeOrThrow<RequestContextInfo>(status, buffer);
        }

        internal static RequestContextInfo SetRequestContext(RequestContextInfo context)
        {
            EnsureCompatible();
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(context, NativeResult.JsonOptions);
            fixed (byte* pointer = json)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_request_context_set(pointer, (nuint)json.Length, &buffer);
                return NativeResult.TakeOrThrow<RequestContextInfo>(status, buffer);
            }
        }

        /// <summary>
        /// Loads the user-defined environments saved by earlier processes, once per process (later
        /// calls do nothing in Rust); every environment cmdlet and Connect-MgGraph call it first.
        /// </summary>
        internal static void EnsureEnvironmentsLoaded()
        {
            EnsureCompatible();
            byte[] settings = JsonSerializer.SerializeToUtf8Bytes(CacheSettings.FromEnvironment(), NativeResult.JsonOptions);
            fixed (byte* settingsPointer = settings)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_environment_load(settingsPointer, (nuint)settings.Length, &buffer);
                NativeResult.TakeOrThrow<Empty>(status, buffer);
            }
        }

        internal static EnvironmentInfo[] ListEnvironments()
        {
            EnsureEnvironmentsLoaded();
            GraphBuffer buffer = default;
            GraphStatus status = NativeMethods.graph_environment_list(&buffer);
            return NativeResult.TakeOrThrow<EnvironmentInfo[]>(status, buffer);
        }

        /// <summary>Adds (and saves) a user-defined environment; the change's Warning says why it could not be saved, if so.</summary>
        internal static EnvironmentChange AddEnvironment(string name, string graphEndpoint, string azureADEndpoint)
        {
            EnsureEnvironmentsLoaded();
            byte[] request = JsonSerializer.SerializeToUtf8Bytes(
                new { name, graphEndpoint, azureADEndpoint }, NativeResult.JsonOptions);
            byte[] settings = JsonSerializer.SerializeToUtf8Bytes(CacheSettings.FromEnvironment(), NativeResult.JsonOptions);
            fixed (byte* requestPointer = request)
            fixed (byte* settingsPointer = settings)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_environment_add(
                    requestPointer, (nuint)request.Length, settingsPointer, (nuint)settings.Length, &buffer);
                return NativeResult.TakeOrThrow<EnvironmentChange>(status, buffer);
            }
        }

        internal static EnvironmentChange RemoveEnvironment(string name)
        {
            EnsureEnvironmentsLoaded();
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            byte[] settings = JsonSerializer.SerializeToUtf8Bytes(CacheSettings.FromEnvironment(), NativeResult.JsonOptions);
            fixed (byte* namePointer = nameBytes)
            fixed (byte* settingsPointer = settings)
            {
                GraphBuffer buffer = default;
                GraphStatus status = NativeMethods.graph_environment_remove(
                    namePointer, (nuint)nameBytes.Length, settingsPointer, (nuint)settings.Length, &buffer);
                return NativeResult.TakeOrThrow<EnvironmentChange>(status, buffer);
            }
        }

        /// <summary>
        /// The one way a call with per-call options reaches Rust: leases the handles (so another
        /// thread's Disconnect-MgGraph or Dispose cannot free them mid-call), pins the encoded
        /// options, copies the proxy password into pinned bytes only when there is one (wiped
        /// right after), runs <paramref name="body"/> and reads its answer with <paramref name="answerOptions"/>.
        /// </summary>
        private static (T? Value, NativeError? Error) CallWithOptions<TState, T>(
            SessionHandle? session,
            CallOptions options,
            SecureString? proxyPassword,
            CancelHandle? cancel,
            TState state,
            JsonSerializerOptions answerOptions,
            OptionsCallBody<TState> body)
            where T : class
        {
            using HandleLease sessionLease = new(session);
            using HandleLease cancelLease = new(cancel);
            using SecretBytes? password = proxyPassword is null ? null : new SecretBytes(proxyPassword);
            byte[] passwordBytes = password?.Bytes ?? Array.Empty<byte>();
            fixed (byte* optionsPointer = options.Encoded)
            fixed (byte* passwordPointer = passwordBytes)
            {
                OptionsCall call = new(
                    (GraphSession*)sessionLease.Pointer,
                    (GraphCancel*)cancelLease.Pointer,
                    optionsPointer,
                    (nuint)options.Encoded.Length,
                    passwordPointer,
                    (nuint)passwordBytes.Length);
                GraphBuffer buffer = default;
                GraphStatus status = body(state, call, &buffer);
                return NativeResult.Take<T>(status, buffer, answerOptions);
            }
        }

        private static NativeError UnpairedSurrogate() => new()
        {
            Kind = "InvalidArgument",
            Message = "the user id contains an unpaired surrogate character: pass the user's object id or user principal name",
        };

        private static bool TryEncode(string text, out byte[] bytes)
        {
            try
            {
                bytes = s_strictUtf8.GetBytes(text);
                return true;
            }
            catch (EncoderFallbackException)
            {
                bytes = Array.Empty<byte>();
                return false;
            }
        }

        private static void EnsureCompatible()
        {
            if (s_abiMismatch.Value is string problem)
            {
                throw new InvalidOperationException(problem);
            }
        }

        /// <summary>One call's export, given its own state (a user id, a request) and the common pointers.</summary>
        private delegate GraphStatus OptionsCallBody<TState>(TState state, in OptionsCall call, GraphBuffer* buffer);

        /// <summary>The pointers every call with per-call options passes; valid only inside <see cref="CallWithOptions"/>.</summary>
        private readonly struct OptionsCall
        {
            internal OptionsCall(GraphSession* session, GraphCancel* cancel, byte* options, nuint optionsLength, byte* password, nuint passwordLength)
            {
                Session = session;
                Cancel = cancel;
                Options = options;
                OptionsLength = optionsLength;
                Password = password;
                PasswordLength = passwordLength;
            }

            internal GraphSession* Session { get; }

            internal GraphCancel* Cancel { get; }

            /// <summary>The encoded options; null with length 0 for the defaults.</summary>
            internal byte* Options { get; }

            internal nuint OptionsLength { get; }

            /// <summary>The proxy password's UTF-8 bytes; null with length 0 when there is none.</summary>
            internal byte* Password { get; }

            internal nuint PasswordLength { get; }
        }

        private static string? CheckAbi()
        {
            uint actual = NativeMethods.graph_abi_version();
            return actual == ExpectedAbiVersion
                ? null
                : $"The native library at '{NativeLibraryResolver.LibraryPath()}' has ABI version {actual}, but this module needs {ExpectedAbiVersion}: the module folder mixes files of two builds; reinstall the module.";
        }
    }
}
