//! The engine of the module: everything that talks to Microsoft Graph and Entra ID.
//!
//! It knows nothing of PowerShell or of the C ABI: callers get plain Rust types
//! ([`Session`], [`RevocationOutcome`], [`GraphError`]) and decide how to present them.
//! One tokio runtime serves the whole process ([`runtime`]); blocking entry points
//! take a [`CancellationToken`] so that Ctrl+C in PowerShell reaches an in-flight call.
//!
//! Sign-in ([`auth`]): a caller-supplied access token; app-only with a client secret, a
//! certificate or a managed identity; delegated with the device code flow
//! ([`delegated_session`]), persisted for CurrentUser scope in the encrypted token cache
//! ([`auth::token_cache`]).

pub mod address;
pub mod auth;
pub mod bulk;
pub mod delegated_session;
pub mod environment;
pub mod environment_store;
pub mod error;
pub mod exchange;
pub mod graph_request;
pub mod journal;
pub mod proxy;
pub mod redact;
pub mod redirect;
pub mod request_context;
pub mod request_options;
pub mod retry;
pub mod runtime;
pub mod session;
pub mod token;
pub mod verify;

mod http_client;
mod revoke;
mod send;
mod user_agent;

pub use address::UserId;
pub use delegated_session::{
    CachedOutcome, DelegatedSignInConfig, DeviceCodeSignIn, sign_in_from_cache,
};
pub use environment::{Environment, EnvironmentRegistry};
pub use error::{ErrorKind, GraphError, ServiceDetail};
pub use exchange::{Exchange, PreparedRequest, RawResponse};
pub use graph_request::{GraphAnswer, GraphRequest, resolve_request_url};
pub use proxy::ProxyConfig;
pub use request_context::RequestContext;
pub use request_options::RequestOptions;
pub use revoke::{RevocationAction, RevocationOutcome, interpret_revocation};
pub use session::{AppSignInConfig, ContextScope, Session, SessionConfig};
pub use token::AccessToken;
pub use tokio_util::sync::CancellationToken;
