//! Sign-in: the credential a session holds and the provider that turns it into access tokens.
//!
//! [`credential::Credential`] is what `Connect-MgGraph` was given (a token, a client secret, a
//! certificate); [`token_provider::TokenProvider`] keeps the current access token, hands it to
//! every request, refreshes it before it expires (one refresh at a time, shared by concurrent
//! callers) and once more when Graph rejects it with 401. Token requests go to
//! `{authority}/{tenant}/oauth2/v2.0/token` through [`token_endpoint`]; Entra's refusals become
//! errors naming the AADSTS code ([`entra_errors`]).
//!
//! Managed identity ([`managed_identity`]) uses the resource's own endpoint, never a proxy.
//!
//! Delegated sign-in: [`device_code`] gets the user's first tokens, [`delegated`] keeps the
//! refresh token and renews with it.

pub mod client_assertion;
pub mod credential;
pub mod delegated;
pub mod device_code;
pub mod entra_errors;
pub mod managed_identity;
pub mod token_cache;
pub mod token_endpoint;
pub mod token_provider;

pub use client_assertion::CertificateSigner;
pub use credential::{AppIdentity, Credential};
pub use delegated::{DelegatedGrant, GrantStore};
pub use managed_identity::ManagedEndpoint;
pub use token_provider::TokenProvider;
