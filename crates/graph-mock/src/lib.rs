//! `graph-mock`: a mock Microsoft Graph server on loopback, faithful to the wire behaviour of the
//! session-revocation actions (`invalidateAllRefreshTokens`, `revokeSignInSessions`) as described in
//! `shared/reference/graph-wire.md`: raw-path routing, JWT bearer validation, Graph error bodies
//! and correlation headers, JSON batching (`POST /{beta|v1.0}/$batch`), Entra's throttling model,
//! and injected misbehaviour. It serves the Rust and Pester tests and the benchmarks.
//!
//! Use it in-process through [`MockServer`], or out-of-process through the `graph-mock` binary and
//! the HTTP control API under `/_mock/`; both drive the same state. Control endpoints (JSON,
//! camelCase; never journaled):
//!
//! | endpoint | body | answer |
//! | --- | --- | --- |
//! | `GET /_mock/users` | | `{"users":[{"id","userPrincipalName"}]}` |
//! | `POST /_mock/users` | `{"users":[...]}` (upsert by id, all or none) | `{"added":n,"total":m}` |
//! | `DELETE /_mock/users` | | 204 |
//! | `POST /_mock/tokens` | [`TokenRequest`] | [`MintedToken`] `{"accessToken","expiresOn"}` |
//! | `GET /_mock/faults` | | `[`[`Fault`]`...]` still queued |
//! | `POST /_mock/faults` | one [`Fault`] or an array | `{"queued":n}` |
//! | `DELETE /_mock/faults` | | 204 |
//! | `GET` / `PUT /_mock/latency` | `{"ms":50}` | `{"ms":50}` / 204 |
//! | `GET /_mock/requests` | | `[`[`RecordedRequest`]`...]` |
//! | `DELETE /_mock/requests` | | 204 |
//! | `GET /_mock/revocations` | | `{"<user id>":count}` |
//! | `GET` / `PUT /_mock/sessions` | [`SessionBehavior`] `{"replicationLagMs":1500,"ineffective":["<id or UPN>"]}` | the behaviour / 204 |
//! | `GET /_mock/throttling` | | `{"config":`[`ThrottleConfig`]`,"limits":[`[`EffectiveLimit`]`],"stats":`[`ThrottleStats`]`}` |
//! | `PUT /_mock/throttling` | [`ThrottleConfig`] (buckets refilled, stats zeroed) | as `GET` |
//! | `DELETE /_mock/throttling` | | 204 (throttling off) |
//! | `GET /_mock/chaos` | | `{"config":`[`ChaosConfig`]` or null,"stats":`[`ChaosStats`]`}` |
//! | `POST` / `PUT /_mock/chaos` | [`ChaosConfig`] (generator reseeded, stats zeroed) | as `GET` |
//! | `DELETE /_mock/chaos` | | 204 (chaos off) |
//! | `GET` / `POST` / `DELETE /_mock/apps` | one [`AppRegistration`] or an array (all or none) | `{"apps":[...]}` / `{"registered":n,"total":m}` / 204 |
//! | `GET` / `POST /_mock/tenants` | one [`TenantRegistration`] or an array | `{"tenants":[...]}` / `{"total":n}` |
//! | `GET` / `POST /_mock/devicecode` | [`DeviceCodeScript`] | the script |
//! | `POST /_mock/refresh-tokens/revoke` | `{"upn"?,"appId"?}` (empty: all) | `{"revoked":n}` |
//! | `GET` / `POST` / `DELETE /_mock/managed-identities` | [`ManagedIdentitiesBody`] | the body / `{"total":n}` / 204 |
//! | `GET` / `PUT /_mock/entra` | [`EntraSettings`] | the settings |
//! | `GET` / `DELETE /_mock/token-stats` | | [`TokenStats`] / 204 |
//! | `POST /_mock/reset` | | 204 (everything but the signing key) |
//!
//! Mistakes in a control body (bad JSON, unknown field, invalid user, fault or config) answer 400
//! `{"error":{"code":"MockControlError","message":...}}`.
//!
//! Besides the revoke actions, `GET /{beta|v1.0}/users/{id}` (`?$select=...` accepted, the
//! answer is always `id`, `userPrincipalName`, `signInSessionsValidFromDateTime`) reads a user
//! back; it costs one resource unit and no write, and needs `User.Read.All`,
//! `User.ReadWrite.All`, `Directory.Read.All` or `Directory.ReadWrite.All`.
//!
//! For generic clients (`Invoke-MgGraphRequest`), `/{beta|v1.0}/mock/echo`, `text`, `bytes`,
//! `empty` and `status/{code}` answer behind the same token check (see `echo`).
//!
//! Graph requests are answered in this order: queued [`Fault`] (kinds `status`, `reset`: the
//! connection is dropped with an RST, `malformedJson`, `slow`), chaos, route and method,
//! authentication, throttling (keyed by the token's `appid` + `tid`; 429 with `Retry-After`,
//! `x-ms-throttle-scope`, `x-ms-throttle-information`; accepted answers carry
//! `x-ms-resource-unit` and, above 80 % of a limit, `x-ms-throttle-limit-percentage`),
//! permission, user lookup. A `$batch` item goes through the same steps on its own (inheriting the
//! batch's `Authorization`), is journaled as its own [`RecordedRequest`] with `batchId`, and its
//! answers come back in an order other than the request order.
//!
//! Sign-in (graph-wire.md "Entra ID token endpoint", "Managed identity"): `POST
//! /{tenant}/oauth2/v2.0/token` (client credentials with a secret or an RS256/PS256 certificate
//! assertion, device code, refresh token with rotation), `POST /{tenant}/oauth2/v2.0/devicecode`,
//! `GET /metadata/identity/oauth2/token` (IMDS, `Metadata: true`) and `GET /msi/token` (App
//! Service, `X-IDENTITY-HEADER`). Errors carry Entra's body and AADSTS codes; issued tokens are
//! this mock's JWTs, so the Graph routes accept them. Revoking a user's sessions through Graph
//! also revokes the refresh tokens issued to that user (AADSTS50173 afterwards). These requests
//! are journaled and queued faults apply to them; chaos and throttling do not.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use graph_mock::{MockConfig, MockServer, TokenRequest, User};
//! let server = MockServer::start(MockConfig::default()).await?;
//! server.add_users([User::new("6f1c2d3e-0000-4000-8000-000000000001", "a@contoso.com")])?;
//! let token = server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
//! let url = format!("{}/beta/users/a@contoso.com/invalidateAllRefreshTokens", server.base_url());
//! // ... POST to `url` with `Authorization: Bearer {token}` ...
//! assert_eq!(server.revocations("a@contoso.com"), 0);
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

mod batch;
mod chaos;
mod config;
mod control;
mod echo;
mod entra;
mod faults;
mod graph;
mod pipeline;
mod recording;
mod rng;
mod route;
mod serve;
mod state;
mod throttle;
mod token;
mod users;
mod wire;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use chaos::{ChaosConfig, ChaosStats};
pub use config::MockConfig;
pub use control::{CONTROL_PREFIX, LatencyBody, UsersBody};
pub use entra::{
    AppRegistration, DEFAULT_IDENTITY_HEADER, DeviceCodeOutcome, DeviceCodeScript, EntraSettings,
    ManagedIdentitiesBody, ManagedIdentity, TenantRegistration, TokenStats,
};
pub use faults::{Fault, FaultKind, FaultMatch};
pub use recording::RecordedRequest;
pub use route::ApiVersion;
pub use throttle::{
    EffectiveLimit, LimitName, LimitOverride, LimitOverrides, ThrottleConfig, ThrottleStats,
};
pub use token::{
    Claims, DEFAULT_APP_ID, DEFAULT_LIFETIME_SECONDS, DEFAULT_TENANT_ID, GRAPH_APP_ID,
    GRAPH_AUDIENCE, MintedToken, REVOKE_PERMISSIONS, TokenRequest, decode_claims_unverified,
};
pub use users::{NEVER_REVOKED, SessionBehavior, User};
pub use wire::{ODATA_JSON, WWW_AUTHENTICATE_VALUE};

use state::AppState;

/// How long [`MockServer::shutdown`] waits for in-flight requests before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running mock server bound to `127.0.0.1`. Dropping it stops accepting connections (in-flight
/// requests finish in the background); [`MockServer::shutdown`] also waits for them.
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockServer {
    /// Binds `127.0.0.1` on a free port and serves on the current tokio runtime.
    pub async fn start(config: MockConfig) -> anyhow::Result<MockServer> {
        Self::start_on_port(0, config).await
    }

    /// Binds `127.0.0.1:port` (0 picks a free port) and serves on the current tokio runtime.
    pub async fn start_on_port(port: u16, config: MockConfig) -> anyhow::Result<MockServer> {
        let state = Arc::new(AppState::new(&config)?);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .with_context(|| format!("cannot bind 127.0.0.1:{port}"))?;
        let addr = listener.local_addr()?;
        let app = control::router()
            .fallback(graph::handle)
            .with_state(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel::<()>();
        // Either an explicit stop or the sender being dropped ends serving.
        let task = tokio::spawn(serve::serve(listener, app, stopped));
        Ok(MockServer {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, to be used where a client expects the Graph root
    /// (`https://graph.microsoft.com`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Mints a bearer token signed with this server's key.
    pub fn mint_token(&self, req: &TokenRequest) -> String {
        self.state.mint(req).access_token
    }

    /// Mints a token and tells its expiry (as `POST /_mock/tokens` does).
    pub fn mint(&self, req: &TokenRequest) -> MintedToken {
        self.state.mint(req)
    }

    /// Adds users (a user with an existing id replaces it); all or none. Returns the user count.
    pub fn add_users(&self, users: impl IntoIterator<Item = User>) -> anyhow::Result<usize> {
        let users: Vec<User> = users.into_iter().collect();
        self.state
            .directory
            .lock()
            .upsert(&users)
            .map_err(anyhow::Error::msg)
    }

    /// The known users, in insertion order.
    pub fn users(&self) -> Vec<User> {
        self.state.directory.lock().users()
    }

    /// Forgets all users (revocation counts stay).
    pub fn clear_users(&self) {
        self.state.directory.lock().clear_users();
    }

    /// Queues an injected answer. Returns the queue length.
    pub fn push_fault(&self, fault: Fault) -> anyhow::Result<usize> {
        self.state
            .faults
            .lock()
            .push(fault)
            .map_err(anyhow::Error::msg)
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.state.faults.lock().clear();
    }

    /// Sets the delay added to every Graph answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state.set_latency(latency);
    }

    /// Every Graph request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.recorder.lock().snapshot()
    }

    /// Empties the request journal.
    pub fn clear_requests(&self) {
        self.state.recorder.lock().clear();
    }

    /// How many times the user with this id (or, while known, UPN) was revoked.
    pub fn revocations(&self, user_id: &str) -> u32 {
        self.state.directory.lock().revocations_of(user_id)
    }

    /// How revocations show in user reads: replication lag, users they do not affect.
    pub fn set_session_behavior(&self, behavior: SessionBehavior) {
        self.state.directory.lock().set_session_behavior(behavior);
    }

    /// Revocation counts by user id (only users revoked at least once).
    pub fn all_revocations(&self) -> BTreeMap<String, u32> {
        self.state.directory.lock().all_revocations()
    }

    /// Replaces the throttling model (buckets start full, counters at zero). Refuses a config with
    /// a non-positive or non-finite number.
    pub fn set_throttling(&self, config: ThrottleConfig) -> anyhow::Result<()> {
        config.validate().map_err(anyhow::Error::msg)?;
        self.state.throttler.lock().configure(config);
        Ok(())
    }

    /// The current throttling model.
    pub fn throttling(&self) -> ThrottleConfig {
        self.state.throttler.lock().config().clone()
    }

    /// The limits as they apply now (the resource-unit tier follows the number of users).
    pub fn throttle_limits(&self) -> Vec<EffectiveLimit> {
        let users = self.state.directory.lock().len() as u64;
        self.state.throttler.lock().effective_limits(users)
    }

    /// Accepted and throttled counts since throttling was last configured.
    pub fn throttle_stats(&self) -> ThrottleStats {
        self.state.throttler.lock().stats()
    }

    /// Switches random faults on (`Some`, generator reseeded, counters zeroed) or off (`None`).
    pub fn set_chaos(&self, config: Option<ChaosConfig>) -> anyhow::Result<()> {
        if let Some(c) = &config {
            c.validate().map_err(anyhow::Error::msg)?;
        }
        self.state.chaos.lock().configure(config);
        Ok(())
    }

    /// What chaos injected since it was last configured.
    pub fn chaos_stats(&self) -> ChaosStats {
        self.state.chaos.lock().stats()
    }

    /// The token endpoint URL of a tenant (id, domain, `common` or `organizations`) on this
    /// server: `http://127.0.0.1:PORT/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base_url())
    }

    /// Registers an application with the mock Entra ID (same `app_id` replaces).
    pub fn register_app(&self, app: AppRegistration) -> anyhow::Result<()> {
        self.state
            .entra
            .register_apps(vec![app])
            .map(|_| ())
            .map_err(anyhow::Error::msg)
    }

    /// Makes a tenant (and its domains) known to the token endpoint.
    pub fn add_tenant(&self, tenant: TenantRegistration) -> anyhow::Result<()> {
        self.state
            .entra
            .registry
            .lock()
            .add_tenant(tenant)
            .map_err(anyhow::Error::msg)
    }

    /// Sets how the simulated user answers device-code sign-ins.
    pub fn set_device_code_script(&self, script: DeviceCodeScript) {
        *self.state.entra.script.lock() = script;
    }

    /// Sets token lifetimes, the refresh-token reuse grace and the assertion clock skew.
    pub fn set_entra_settings(&self, settings: EntraSettings) {
        *self.state.entra.settings.lock() = settings;
    }

    /// Revokes refresh tokens of a user and/or app (None matches all); how many were live.
    pub fn revoke_refresh_tokens(&self, upn: Option<&str>, app_id: Option<&str>) -> usize {
        self.state.entra.revoke_refresh_tokens(upn, app_id)
    }

    /// Adds managed identities and/or sets the App Service identity header.
    pub fn add_managed_identities(&self, body: ManagedIdentitiesBody) -> anyhow::Result<usize> {
        self.state
            .entra
            .managed
            .lock()
            .apply(body)
            .map_err(anyhow::Error::msg)
    }

    /// Token requests and issues by grant type (and `devicecode`, `imds`, `appService`).
    pub fn token_stats(&self) -> TokenStats {
        self.state.entra.stats.lock().clone()
    }

    /// Clears users, faults, journal, revocations, latency, throttling, chaos and the sign-in side
    /// (apps, tenants, codes, refresh tokens, identities, settings, stats); the signing key stays.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Stops accepting connections and waits (up to a few seconds) for in-flight requests.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(joined) => joined
                .context("mock server task failed")?
                .context("mock server stopped with an error"),
            Err(_) => {
                // A client holding a request open must not hang the caller's shutdown.
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
