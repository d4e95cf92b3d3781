//! App-only sign-in: `Connect-MgGraph -ClientSecretCredential`, the certificate parameter
//! sets and `-Identity` (managed identity). A secret (or the certificate's PKCS#8 private key)
//! arrives as separate bytes, never in the JSON; Rust copies it into zeroizing memory and the
//! caller wipes its own copy. Each blocks until the first token arrives, or `cancel` fires.

use std::sync::Arc;

use graph_core::{AppSignInConfig, GraphError, Session};

use crate::boundary::guard;
use crate::buffer::{GraphBuffer, input_bytes, input_json, require_out};
use crate::cancel_exports::{GraphCancel, token_of};
use crate::session_exports::GraphSession;
use crate::status::GraphStatus;

/// Opens a session with a client secret. `config` is a JSON `AppSignInConfig` with `clientId`
/// and `tenantId`; `secret` the secret's UTF-8 bytes. On success `*session_out` receives the
/// handle and `out` the context as JSON.
///
/// # Safety
/// Every pointer/length pair null with length 0 or that many readable bytes; `cancel` null or
/// a live handle; `session_out` null or valid for one write; `out` likewise.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_open_with_client_secret(
    config: *const u8,
    config_len: usize,
    secret: *const u8,
    secret_len: usize,
    cancel: *const GraphCancel,
    session_out: *mut *mut GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let config = read_config(config, config_len, session_out)?;
            let secret = input_bytes(secret, secret_len, "the client secret")?;
            let session = Session::connect_with_client_secret(&config, secret, &token_of(cancel))?;
            Ok(publish(session, session_out))
        })
    }
}

/// Opens a session with a certificate. `config` is a JSON `AppSignInConfig` with `clientId`,
/// `tenantId`, `certificate` (base64 DER) and optionally `certificateChain` and
/// `sendCertificateChain`; `private_key` the certificate's RSA private key as PKCS#8 DER.
///
/// # Safety
/// As for [`graph_session_open_with_client_secret`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_open_with_certificate(
    config: *const u8,
    config_len: usize,
    private_key: *const u8,
    private_key_len: usize,
    cancel: *const GraphCancel,
    session_out: *mut *mut GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let config = read_config(config, config_len, session_out)?;
            let key = input_bytes(private_key, private_key_len, "the private key")?;
            let session = Session::connect_with_certificate(&config, key, &token_of(cancel))?;
            Ok(publish(session, session_out))
        })
    }
}

/// Opens a session with the Azure resource's managed identity. `config` is a JSON
/// `AppSignInConfig`: optional `clientId` (a user-assigned identity), `identityEndpoint` and
/// `imdsHost`; `identity_header` the `IDENTITY_HEADER` secret (empty for IMDS). No proxy is used.
///
/// # Safety
/// As for [`graph_session_open_with_client_secret`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_session_open_with_managed_identity(
    config: *const u8,
    config_len: usize,
    identity_header: *const u8,
    identity_header_len: usize,
    cancel: *const GraphCancel,
    session_out: *mut *mut GraphSession,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let config = read_config(config, config_len, session_out)?;
            let header = input_bytes(identity_header, identity_header_len, "IDENTITY_HEADER")?;
            let session =
                Session::connect_with_managed_identity(&config, header, &token_of(cancel))?;
            Ok(publish(session, session_out))
        })
    }
}

/// # Safety
/// `config` null with length 0 or `config_len` readable bytes.
unsafe fn read_config(
    config: *const u8,
    config_len: usize,
    session_out: *mut *mut GraphSession,
) -> Result<AppSignInConfig, GraphError> {
    require_out(session_out, "session_out")?;
    // SAFETY: forwarded contract.
    unsafe { input_json(config, config_len, "the session configuration") }
}

/// # Safety
/// `session_out` must be valid for one write (checked not null by [`read_config`]).
pub(crate) unsafe fn publish(
    session: Session,
    session_out: *mut *mut GraphSession,
) -> graph_core::session::SessionContext {
    let context = session.context();
    let handle = Box::into_raw(Box::new(GraphSession {
        session: Arc::new(session),
    }));
    // SAFETY: not null and valid for one write, per the caller's contract.
    unsafe { session_out.write(handle) };
    context
}
