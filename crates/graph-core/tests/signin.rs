//! App-only sign-in against the mock Entra ID over real loopback HTTP: the first token at
//! Connect, silent renewal before expiry and after a 401, one renewal shared by concurrent
//! callers, and Entra's refusals named by their AADSTS code.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use graph_core::runtime::block_on_cancellable;
use graph_core::{
    AppSignInConfig, CancellationToken, Environment, EnvironmentRegistry, ErrorKind, GraphError,
    RequestOptions, Session, UserId,
};
use graph_mock::{AppRegistration, EntraSettings, Fault, MockConfig, MockServer, User};

const ADELE_UPN: &str = "adele@contoso.com";
const APP_ID: &str = "5a1b2c3d-0000-4000-8000-00000000a001";
const TENANT_ID: &str = "7e000000-0000-4000-8000-0000000000e1";
const SECRET: &str = "s3cret~value.for-tests";
const CERT_PEM: &str = include_str!("../../graph-mock/tests/fixtures/app1.cert.pem");
const KEY_PEM: &str = include_str!("../../graph-mock/tests/fixtures/app1.key.pem");

struct Fixture {
    _runtime: tokio::runtime::Runtime,
    server: MockServer,
    environment: String,
}

fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("mock runtime");
    let server = runtime
        .block_on(MockServer::start(MockConfig::default().with_users([
            User::new("0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", ADELE_UPN),
        ])))
        .expect("mock server");
    server
        .register_app(AppRegistration {
            tenant_id: Some(TENANT_ID.into()),
            certificates: vec![CERT_PEM.into()],
            ..AppRegistration::with_secret(APP_ID, SECRET, ["User.RevokeSessions.All"])
        })
        .expect("app registered");
    let environment = format!("signin-{}", server.addr().port());
    EnvironmentRegistry::global()
        .add(
            Environment::user_defined(&environment, &server.base_url(), &server.base_url())
                .expect("loopback"),
        )
        .expect("registered");
    Fixture {
        _runtime: runtime,
        server,
        environment,
    }
}

impl Fixture {
    fn config(&self) -> AppSignInConfig {
        AppSignInConfig {
            environment: self.environment.clone(),
            host_description: None,
            client_id: Some(APP_ID.into()),
            tenant_id: Some(TENANT_ID.into()),
            certificate: None,
            certificate_chain: Vec::new(),
            send_certificate_chain: false,
            identity_endpoint: None,
            imds_host: None,
        }
    }

    fn with_secret(&self, secret: &str) -> Result<Session, GraphError> {
        Session::connect_with_client_secret(
            &self.config(),
            secret.as_bytes(),
            &CancellationToken::new(),
        )
    }

    fn client_credentials_requests(&self) -> u64 {
        self.server.token_stats().requests_of("client_credentials")
    }

    fn set_lifetime(&self, seconds: i64) {
        self.server.set_entra_settings(EntraSettings {
            access_token_lifetime_seconds: seconds,
            ..EntraSettings::default()
        });
    }
}

fn revoke(session: &Session) -> Result<bool, GraphError> {
    let user = UserId::parse(ADELE_UPN)?;
    block_on_cancellable(
        &CancellationToken::new(),
        session.invalidate_all_refresh_tokens(&user, &RequestOptions::default()),
    )
    .map(|outcome| outcome.value)
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("pem")
}

#[test]
fn a_client_secret_signs_in_once_and_the_token_is_reused() {
    let f = fixture();
    let session = f.with_secret(SECRET).expect("signed in");
    let context = session.context();
    assert_eq!(context.auth_type, "AppOnly");
    assert_eq!(context.token_credential_type, "ClientSecret");
    assert_eq!(context.claims.client_id.as_deref(), Some(APP_ID));
    assert_eq!(context.claims.tenant_id.as_deref(), Some(TENANT_ID));
    assert!(revoke(&session).expect("revoked"));
    assert!(revoke(&session).expect("revoked"));
    assert_eq!(f.client_credentials_requests(), 1);
    let form = f
        .server
        .requests()
        .into_iter()
        .find(|request| request.raw_path.ends_with("/oauth2/v2.0/token"))
        .expect("token request")
        .body;
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(
        form.contains("scope=00000003-0000-0000-c000-000000000000%2F.default"),
        "{form}"
    );
}

#[test]
fn a_token_about_to_expire_is_renewed_before_use() {
    let f = fixture();
    f.set_lifetime(2);
    let session = f.with_secret(SECRET).expect("signed in");
    assert!(revoke(&session).expect("first call"));
    std::thread::sleep(Duration::from_millis(2200));
    assert!(revoke(&session).expect("call after expiry"));
    assert_eq!(f.client_credentials_requests(), 2);
}

#[test]
fn a_401_is_retried_once_with_a_renewed_token() {
    let f = fixture();
    let session = f.with_secret(SECRET).expect("signed in");
    let mut fault = Fault::status(401);
    fault.matcher.path_contains = Some("invalidateAllRefreshTokens".into());
    f.server.push_fault(fault).expect("fault");
    assert!(revoke(&session).expect("retried"));
    assert_eq!(f.client_credentials_requests(), 2);

    // A second 401 in a row is the answer: no loop.
    let mut fault = Fault::status(401);
    fault.matcher.path_contains = Some("invalidateAllRefreshTokens".into());
    fault.times = 2;
    f.server.push_fault(fault).expect("fault");
    let error = revoke(&session).expect_err("401 twice");
    assert_eq!(error.service().status, Some(401));
    assert_eq!(f.client_credentials_requests(), 3);
}

#[test]
fn concurrent_callers_share_one_renewal() {
    let f = fixture();
    f.set_lifetime(2);
    let session = Arc::new(f.with_secret(SECRET).expect("signed in"));
    std::thread::sleep(Duration::from_millis(1100));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let session = Arc::clone(&session);
            std::thread::spawn(move || revoke(&session).expect("revoked"))
        })
        .collect();
    for caller in callers {
        assert!(caller.join().expect("caller"));
    }
    assert_eq!(f.client_credentials_requests(), 2);
}

#[test]
fn a_wrong_secret_names_its_aadsts_code() {
    let f = fixture();
    let error = f.with_secret("wrong").err().expect("refused");
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(error.message.contains("AADSTS7000215"), "{}", error.message);
    assert!(!error.message.contains("wrong"), "{}", error.message);
    assert_eq!(error.service().code.as_deref(), Some("AADSTS7000215"));
}

#[test]
fn an_unknown_tenant_names_its_aadsts_code() {
    let f = fixture();
    let mut config = f.config();
    config.tenant_id = Some("nowhere.example".into());
    let error =
        Session::connect_with_client_secret(&config, SECRET.as_bytes(), &CancellationToken::new())
            .err()
            .expect("refused");
    assert!(error.message.contains("AADSTS90002"), "{}", error.message);
}

#[test]
fn an_unreachable_authority_is_a_network_error_naming_the_url() {
    let name = "signin-unreachable";
    EnvironmentRegistry::global()
        .add(
            Environment::user_defined(name, "http://127.0.0.1:9", "http://127.0.0.1:9")
                .expect("env"),
        )
        .expect("registered");
    let config = AppSignInConfig {
        environment: name.into(),
        host_description: None,
        client_id: Some(APP_ID.into()),
        tenant_id: Some(TENANT_ID.into()),
        certificate: None,
        certificate_chain: Vec::new(),
        send_certificate_chain: false,
        identity_endpoint: None,
        imds_host: None,
    };
    let error = Session::connect_with_client_secret(&config, b"x", &CancellationToken::new())
        .err()
        .expect("unreachable");
    assert_eq!(error.kind, ErrorKind::Network);
    assert!(
        error.message.contains("http://127.0.0.1:9/"),
        "{}",
        error.message
    );
}

#[test]
fn a_certificate_signs_a_ps256_assertion_entra_accepts() {
    let f = fixture();
    let mut config = f.config();
    config.certificate = Some(base64::engine::general_purpose::STANDARD.encode(pem_body(CERT_PEM)));
    config.send_certificate_chain = true;
    let key = pem_body(KEY_PEM);
    let session = Session::connect_with_certificate(&config, &key, &CancellationToken::new())
        .expect("signed in");
    let context = session.context();
    assert_eq!(context.token_credential_type, "ClientCertificate");
    assert_eq!(
        context.certificate_thumbprint.as_deref().map(str::len),
        Some(40)
    );
    assert!(revoke(&session).expect("revoked"));

    let form = f
        .server
        .requests()
        .into_iter()
        .find(|request| request.raw_path.ends_with("/oauth2/v2.0/token"))
        .expect("token request")
        .body;
    let assertion = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("client_assertion="))
        .expect("assertion");
    let header = assertion.split('.').next().expect("header");
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["x5t#S256"].as_str().map(str::len), Some(43));
    assert_eq!(header["x5c"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_certificate_the_app_does_not_know_is_refused_with_aadsts700027() {
    let f = fixture();
    let mut config = f.config();
    let other = include_str!("../../graph-mock/tests/fixtures/app2.cert.pem");
    config.certificate = Some(base64::engine::general_purpose::STANDARD.encode(pem_body(other)));
    let key = pem_body(include_str!("../../graph-mock/tests/fixtures/app2.key.pem"));
    let error = Session::connect_with_certificate(&config, &key, &CancellationToken::new())
        .err()
        .expect("refused");
    assert!(error.message.contains("AADSTS700027"), "{}", error.message);
}

#[test]
fn a_missing_or_unreadable_private_key_is_refused_before_anything_is_sent() {
    let f = fixture();
    let mut config = f.config();
    config.certificate = Some(base64::engine::general_purpose::STANDARD.encode(pem_body(CERT_PEM)));
    for key in [&b""[..], b"not a key"] {
        let error = Session::connect_with_certificate(&config, key, &CancellationToken::new())
            .err()
            .expect("refused");
        assert!(error.message.contains("private key"), "{}", error.message);
    }
    assert_eq!(f.client_credentials_requests(), 0);
}

#[test]
fn managed_identity_tokens_come_from_imds_with_the_metadata_header() {
    use graph_core::auth::managed_identity::{ManagedEndpoint, acquire, direct_client};
    let f = fixture();
    f.server
        .add_managed_identities(graph_mock::ManagedIdentitiesBody {
            identities: vec![graph_mock::ManagedIdentity {
                client_id: "mi-1".into(),
                system_assigned: true,
                roles: vec!["User.RevokeSessions.All".into()],
                ..Default::default()
            }],
            identity_header: None,
        })
        .expect("identity");
    let environment = EnvironmentRegistry::global()
        .get(&f.environment)
        .expect("environment");
    let endpoint = ManagedEndpoint::Imds {
        url: format!("{}/metadata/identity/oauth2/token", f.server.base_url()),
    };
    let issued = block_on_cancellable(&CancellationToken::new(), async {
        acquire(&direct_client()?, &endpoint, None, &environment).await
    })
    .expect("token");
    assert_eq!(issued.token.claims().client_id.as_deref(), Some("mi-1"));
}
