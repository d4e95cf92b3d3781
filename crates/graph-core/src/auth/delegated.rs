//! Delegated sign-in state: the user's refresh token (rotated on every redemption) and the
//! refresh-token grant that renews the access token without the user. A refresh token Entra
//! no longer accepts (revoked, expired: `invalid_grant`) is dropped at once, here and in the
//! persistent cache, so the user gets one clear "sign in again" error instead of a retry loop.

use std::sync::Arc;

use parking_lot::Mutex;
use zeroize::Zeroizing;

use super::credential::AppIdentity;
use super::entra_errors;
use super::token_endpoint::{self, IssuedToken, append, graph_resource, token_url};
use crate::environment::Environment;
use crate::error::{ErrorKind, GraphError};
use crate::session::unix_now;
use crate::token::AccessToken;

/// The Microsoft Graph Command Line Tools app: the official module's default client id.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// The tenant used when `-TenantId` is not given: the account's home tenant decides.
pub const DEFAULT_TENANT: &str = "common";

/// OpenID Connect scopes: sent as they are, never prefixed with Graph's URL.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Where a delegated sign-in is kept beyond this process (the CurrentUser token cache).
pub trait GrantStore: Send + Sync {
    /// Records a sign-in that just completed, replacing whatever the store held for it.
    /// Failures are the store's to report; the sign-in itself goes on in memory.
    fn save_new(&self, refresh_token: &str, issued: &IssuedToken);
    /// Records a rotated refresh token and access token of this sign-in, only while the store
    /// still holds this sign-in (not after a Disconnect elsewhere, nor over another sign-in).
    fn save(&self, refresh_token: &str, issued: &IssuedToken);
    /// Forgets the persisted sign-in (Disconnect-MgGraph); the error says why it could not.
    fn forget(&self) -> Result<(), GraphError>;
    /// Entra refused `refused`: when the store holds a different (newer) refresh token, saved by
    /// another process that redeemed ours first, that one is returned to retry with; otherwise
    /// the persisted sign-in is forgotten and `None` returned.
    fn refused(&self, refused: &str) -> Option<Zeroizing<String>>;
    /// Blocks until this process may renew the persisted sign-in (other processes renewing
    /// the same cache wait meanwhile); released when the guard is dropped. `None` when no lock
    /// can be had: the renewal then goes on without it.
    fn renewal_lock(&self) -> Option<Box<dyn Send>>;
    /// This persisted sign-in as it is now (another process may have renewed it); `None` when
    /// the store no longer holds this sign-in (removed, or replaced by another one).
    fn saved(&self) -> Option<SavedGrant>;
}

/// A persisted sign-in's tokens.
pub struct SavedGrant {
    pub refresh_token: Zeroizing<String>,
    /// The access token and when it expires (seconds since the epoch).
    pub access_token: Option<(Zeroizing<String>, i64)>,
}

/// A token another process renewed is taken over only with at least this much life left.
const SHARED_TOKEN_MIN_SECONDS: i64 = 30;

/// A signed-in user's grant: which scopes, and the refresh token to renew them with.
pub struct DelegatedGrant {
    /// The scopes as the user asked for them (normalized: trimmed, deduplicated, sorted).
    pub scopes: Vec<String>,
    refresh_token: Mutex<Option<Zeroizing<String>>>,
    store: Option<Arc<dyn GrantStore>>,
}

impl DelegatedGrant {
    pub fn new(
        scopes: Vec<String>,
        refresh_token: Option<Zeroizing<String>>,
        store: Option<Arc<dyn GrantStore>>,
    ) -> DelegatedGrant {
        DelegatedGrant {
            scopes,
            refresh_token: Mutex::new(refresh_token),
            store,
        }
    }

    /// Whether a refresh token is held (false once Entra refused it).
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.lock().is_some()
    }

    /// Records a rotated refresh token (Entra may also answer without one: keep the old).
    pub fn rotated(&self, refresh_token: Option<Zeroizing<String>>, issued: &IssuedToken) {
        let mut current = self.refresh_token.lock();
        if let Some(new) = refresh_token {
            *current = Some(new);
        }
        if let (Some(store), Some(token)) = (&self.store, current.as_ref()) {
            store.save(token, issued);
        }
    }

    /// Saves a sign-in that just completed (device code) in the store.
    pub fn signed_in(&self, issued: &IssuedToken) {
        let current = self.refresh_token.lock();
        if let (Some(store), Some(token)) = (&self.store, current.as_ref()) {
            store.save_new(token, issued);
        }
    }

    /// Forgets the refresh token here (always) and in the store (the error says why not).
    pub fn forget(&self) -> Result<(), GraphError> {
        *self.refresh_token.lock() = None;
        match &self.store {
            Some(store) => store.forget(),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for DelegatedGrant {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DelegatedGrant")
            .field("scopes", &self.scopes)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// Normalizes the scopes a user typed: split on spaces and commas, trimmed, deduplicated
/// ignoring case, sorted (so the cache key does not depend on their order).
pub fn normalize_scopes(scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in scopes
        .iter()
        .flat_map(|scope| scope.split([' ', ',']))
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
    {
        if !out.iter().any(|known| known.eq_ignore_ascii_case(scope)) {
            out.push(scope.to_owned());
        }
    }
    out.sort_by_key(|scope| scope.to_ascii_lowercase());
    out
}

/// The `scope` parameter of a delegated request: each Graph permission named by Graph's URL
/// in this cloud (a bare name would mean the global Graph), then `offline_access` (so a
/// refresh token comes back), `openid` and `profile`. No scopes means `.default`.
pub fn scope_parameter(environment: &Environment, scopes: &[String]) -> String {
    let resource = graph_resource(environment);
    let loopback = !environment.graph_endpoint.starts_with("https://");
    let mut parts: Vec<String> = Vec::new();
    let named: Vec<&str> = if scopes.is_empty() {
        vec![".default"]
    } else {
        scopes.iter().map(String::as_str).collect()
    };
    for scope in named {
        let lower = scope.to_ascii_lowercase();
        if OIDC_SCOPES.contains(&lower.as_str()) || scope.contains("://") || loopback {
            parts.push(scope.to_owned());
        } else {
            parts.push(format!("{resource}/{scope}"));
        }
    }
    for oidc in ["offline_access", "openid", "profile"] {
        if !parts.iter().any(|part| part.eq_ignore_ascii_case(oidc)) {
            parts.push(oidc.to_owned());
        }
    }
    parts.join(" ")
}

/// The error for a sign-in that can no longer be renewed.
pub fn sign_in_again(cause: Option<&GraphError>) -> GraphError {
    let code = cause
        .and_then(|error| error.service.as_ref())
        .and_then(|service| service.code.clone());
    let because = match &code {
        Some(code) => format!(" ({code}: Entra ID no longer accepts the saved refresh token)"),
        None => String::new(),
    };
    GraphError {
        kind: ErrorKind::Authentication,
        message: format!(
            "Your sign-in has expired or was revoked{because}. Sign in again with Connect-MgGraph."
        ),
        service: cause.and_then(|error| error.service.clone()),
    }
}

/// When another process renewed the persisted sign-in since this one read it: its refresh
/// token replaces ours, and its access token is used when it still has some life.
fn take_over_saved(grant: &DelegatedGrant) -> Option<IssuedToken> {
    let saved = grant.store.as_ref()?.saved()?;
    let mut current = grant.refresh_token.lock();
    let ours = current.as_ref()?;
    if ours.as_str() == saved.refresh_token.as_str() {
        return None;
    }
    *current = Some(saved.refresh_token);
    drop(current);
    let (token, expires_at) = saved.access_token?;
    let now = unix_now();
    let left = token_endpoint::life_left(expires_at, now);
    if left < SHARED_TOKEN_MIN_SECONDS {
        return None;
    }
    let token = AccessToken::issued(token.as_bytes()).ok()?;
    Some(IssuedToken::new(token, now, left))
}

/// Renews the access token with the refresh token (refresh-token grant), rotating it.
pub async fn refresh(
    http: &reqwest::Client,
    environment: &Environment,
    app: &AppIdentity,
    grant: &DelegatedGrant,
) -> Result<IssuedToken, GraphError> {
    let url = token_url(environment, &app.tenant_id);
    // Renewals of one persisted sign-in are serialized across processes: whoever comes second
    // finds the first one's new tokens in the cache and uses them instead of redeeming a
    // refresh token the first one already redeemed.
    let _renewal = match &grant.store {
        Some(store) => {
            let store = Arc::clone(store);
            tokio::task::spawn_blocking(move || store.renewal_lock())
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    if let Some(issued) = take_over_saved(grant) {
        return Ok(issued);
    }
    // A second attempt only with a refresh token another process saved meanwhile.
    for attempt in 0..2 {
        let used = {
            let current = grant.refresh_token.lock();
            let Some(refresh_token) = current.as_ref() else {
                // Already refused: do not ask Entra again.
                return Err(sign_in_again(None));
            };
            refresh_token.clone()
        };
        let mut form = Zeroizing::new(String::new());
        append(&mut form, "client_id", &app.client_id);
        append(&mut form, "grant_type", "refresh_token");
        append(&mut form, "refresh_token", &used);
        append(
            &mut form,
            "scope",
            &scope_parameter(environment, &grant.scopes),
        );
        let answer = token_endpoint::exchange(http, &url, form.as_bytes().to_vec()).await?;
        if answer.is_success() {
            let granted = token_endpoint::read_tokens(&answer, &url)?;
            grant.rotated(granted.refresh_token, &granted.issued);
            return Ok(granted.issued);
        }
        let error = answer.refusal("the saved sign-in");
        if entra_errors::oauth_error(&answer.body).as_deref() != Some("invalid_grant") {
            return Err(error);
        }
        let newer = grant.store.as_ref().and_then(|store| store.refused(&used));
        match newer {
            Some(newer) if attempt == 0 => *grant.refresh_token.lock() = Some(newer),
            _ => {
                *grant.refresh_token.lock() = None;
                return Err(sign_in_again(Some(&error)));
            }
        }
    }
    Err(sign_in_again(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(graph: &str) -> Environment {
        Environment::user_defined("T", graph, "https://login.example.test").expect("valid")
    }

    #[test]
    fn scopes_are_normalized_for_the_cache_key() {
        let scopes = normalize_scopes(&[
            "User.RevokeSessions.All, user.read".to_owned(),
            " User.Read ".to_owned(),
        ]);
        assert_eq!(scopes, ["user.read", "User.RevokeSessions.All"]);
    }

    #[test]
    fn graph_permissions_are_named_by_the_cloud_s_graph() {
        let us = environment("https://graph.microsoft.us");
        assert_eq!(
            scope_parameter(&us, &["User.Read".to_owned(), "openid".to_owned()]),
            "https://graph.microsoft.us/User.Read openid offline_access profile"
        );
        let loopback = environment("http://127.0.0.1:9");
        assert_eq!(
            scope_parameter(&loopback, &[]),
            ".default offline_access openid profile"
        );
    }

    fn issued(upn: &str) -> IssuedToken {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = unix_now();
        let jwt = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(format!(r#"{{"upn":"{upn}","exp":{}}}"#, now + 3600))
        );
        IssuedToken::new(
            AccessToken::parse(jwt.as_bytes(), now).expect("jwt"),
            now,
            3600,
        )
    }

    /// Process A signed in as alice; process B signed in, disconnected and signed in as bob
    /// under the same key. A must keep alice's tokens, never adopt bob's, never remove bob's
    /// entry, and after B's Disconnect A's rotations must not bring the entry back.
    #[test]
    fn a_process_never_adopts_another_sign_in_s_tokens_nor_undoes_a_disconnect() {
        use crate::auth::token_cache::binding::CacheBinding;
        use crate::auth::token_cache::{CacheKey, TokenCache};
        let dir = std::env::temp_dir().join(format!("graph-grants-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let settings = crate::auth::token_cache::CacheSettings {
            data_dir: Some(dir.display().to_string()),
            key_store: Some("none".to_owned()),
        };
        let key = CacheKey::new(&environment("https://graph.test"), "common", "app", &[]);
        let grant = |sign_in: &str, refresh_token: &str| {
            let cache = Arc::new(TokenCache::open(&settings).expect("cache"));
            let binding = CacheBinding {
                cache: Arc::clone(&cache),
                key: key.clone(),
                sign_in_id: sign_in.to_owned(),
            };
            let grant = DelegatedGrant::new(
                vec![],
                Some(Zeroizing::new(refresh_token.to_owned())),
                Some(Arc::new(binding) as Arc<dyn GrantStore>),
            );
            (grant, cache)
        };
        let current = |grant: &DelegatedGrant| {
            grant
                .refresh_token
                .lock()
                .as_ref()
                .map(|token| token.to_string())
        };
        let (alice, cache) = grant("sign-in-a", "rt-alice");
        alice.signed_in(&issued("alice@x"));
        let (bob, _) = grant("sign-in-b", "rt-bob-old");
        bob.signed_in(&issued("bob@x"));
        bob.forget().expect("removed");
        let (bob, _) = grant("sign-in-c", "rt-bob");
        bob.signed_in(&issued("bob@x"));

        assert!(
            take_over_saved(&alice).is_none(),
            "bob's tokens not taken over"
        );
        assert_eq!(current(&alice).as_deref(), Some("rt-alice"));
        let store = alice.store.as_ref().expect("store");
        assert!(
            store.refused("rt-alice").is_none(),
            "no retry with bob's token"
        );
        alice.rotated(
            Some(Zeroizing::new("rt-alice-2".into())),
            &issued("alice@x"),
        );
        let saved = cache
            .find_exact(&key)
            .expect("read")
            .expect("bob's entry kept");
        assert_eq!(saved.refresh_token.as_str(), "rt-bob");
        assert_eq!(saved.account.as_deref(), Some("bob@x"));

        // Bob's process rotates and another process of his sign-in takes the new token over.
        let (bob_too, _) = grant("sign-in-c", "rt-bob");
        bob.rotated(Some(Zeroizing::new("rt-bob-2".into())), &issued("bob@x"));
        assert!(take_over_saved(&bob_too).is_some());
        assert_eq!(current(&bob_too).as_deref(), Some("rt-bob-2"));

        // Disconnect elsewhere: the entry stays gone, the session here goes on in memory.
        bob.forget().expect("removed");
        bob_too.rotated(Some(Zeroizing::new("rt-bob-3".into())), &issued("bob@x"));
        assert!(
            cache.find_exact(&key).expect("read").is_none(),
            "not resurrected"
        );
        assert_eq!(current(&bob_too).as_deref(), Some("rt-bob-3"));
        std::fs::remove_dir_all(dir).expect("cleaned");
    }

    #[test]
    fn the_refresh_token_never_shows_in_debug_output() {
        let grant = DelegatedGrant::new(vec![], Some(Zeroizing::new("rt-secret".into())), None);
        assert!(!format!("{grant:?}").contains("rt-secret"));
    }
}
