//! Delegated sign-in against the mock Entra ID over real loopback HTTP: the device code flow
//! (pending, slow_down, declined, expired), silent renewal with the rotated refresh token, and
//! one clear "sign in again" error once the refresh token is revoked, without a retry loop.

use graph_core::runtime::block_on_cancellable;
use graph_core::{
    CancellationToken, DelegatedSignInConfig, DeviceCodeSignIn, Environment, EnvironmentRegistry,
    ErrorKind, GraphError, RequestOptions, Session, UserId,
};
use graph_mock::{
    AppRegistration, DeviceCodeOutcome, DeviceCodeScript, EntraSettings, MockConfig, MockServer,
    User,
};

const ADELE_UPN: &str = "adele@contoso.com";
const CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
const TENANT_ID: &str = "7e000000-0000-4000-8000-0000000000d1";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

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
            app_id: CLIENT_ID.into(),
            tenant_id: Some(TENANT_ID.into()),
            ..AppRegistration::default()
        })
        .expect("app registered");
    let environment = format!("device-{}", server.addr().port());
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
    fn config(&self) -> DelegatedSignInConfig {
        DelegatedSignInConfig {
            environment: self.environment.clone(),
            host_description: None,
            client_id: None,
            tenant_id: None,
            scopes: vec!["User.RevokeSessions.All".into()],
            context_scope: Some(graph_core::ContextScope::Process),
            cache: Default::default(),
        }
    }

    fn script(&self, pending_polls: u32, outcome: DeviceCodeOutcome, slow_down: bool) {
        self.server.set_device_code_script(DeviceCodeScript {
            pending_polls,
            outcome,
            slow_down,
            interval: 0,
            ..DeviceCodeScript::default()
        });
    }

    fn sign_in(&self) -> Result<Session, GraphError> {
        let cancel = CancellationToken::new();
        let pending = DeviceCodeSignIn::start(&self.config(), &cancel)?;
        assert!(
            pending
                .prompt()
                .message
                .contains(&pending.prompt().user_code)
        );
        pending.complete(&cancel)
    }

    fn requests(&self, kind: &str) -> u64 {
        self.server.token_stats().requests_of(kind)
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

#[test]
fn device_code_signs_in_after_pending_polls_and_revokes() {
    let fixture = fixture();
    fixture.script(2, DeviceCodeOutcome::Approve, false);
    let session = fixture.sign_in().expect("signed in");
    assert_eq!(fixture.requests("devicecode"), 1);
    assert_eq!(fixture.requests(DEVICE_GRANT), 3);
    let context = session.context();
    assert_eq!(context.auth_type, "Delegated");
    assert_eq!(context.claims.account.as_deref(), Some("admin@contoso.com"));
    assert!(
        context
            .claims
            .scopes
            .iter()
            .any(|s| s == "User.RevokeSessions.All")
    );
    assert!(revoke(&session).expect("revoked"));
}

#[test]
fn slow_down_adds_five_seconds_to_the_interval() {
    let fixture = fixture();
    fixture.script(1, DeviceCodeOutcome::Approve, true);
    let started = std::time::Instant::now();
    fixture.sign_in().expect("signed in");
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));
    assert_eq!(fixture.requests(DEVICE_GRANT), 2);
}

#[test]
fn declined_and_expired_codes_stop_with_a_clear_error() {
    let fixture = fixture();
    fixture.script(1, DeviceCodeOutcome::Decline, false);
    let error = fixture.sign_in().err().expect("declined");
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(error.message.contains("declined"), "{}", error.message);
    assert!(
        error.message.contains("Connect-MgGraph"),
        "{}",
        error.message
    );
    fixture.script(0, DeviceCodeOutcome::Expire, false);
    let error = fixture.sign_in().err().expect("expired");
    assert!(error.message.contains("expired_token"), "{}", error.message);
    assert!(error.message.contains("AADSTS70019"), "{}", error.message);
}

#[test]
fn cancellation_stops_polling_promptly() {
    let fixture = fixture();
    fixture.script(1_000_000, DeviceCodeOutcome::Approve, false);
    fixture.server.set_device_code_script(DeviceCodeScript {
        pending_polls: 1_000_000,
        interval: 1,
        ..DeviceCodeScript::default()
    });
    let cancel = CancellationToken::new();
    let pending = DeviceCodeSignIn::start(&fixture.config(), &cancel).expect("code");
    let trigger = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        trigger.cancel();
    });
    let error = pending.complete(&cancel).err().expect("cancelled");
    assert_eq!(error.kind, ErrorKind::Cancelled);
}

#[test]
fn an_expiring_token_is_renewed_with_the_rotated_refresh_token() {
    let fixture = fixture();
    fixture.script(0, DeviceCodeOutcome::Approve, false);
    fixture.server.set_entra_settings(EntraSettings {
        access_token_lifetime_seconds: 2,
        ..EntraSettings::default()
    });
    let session = fixture.sign_in().expect("signed in");
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(revoke(&session).expect("revoked"));
    }
    // Each renewal redeems the previous refresh token, which the mock kills at once (no
    // grace): more than one success proves the rotated token replaced the old one.
    assert!(fixture.server.token_stats().issued_of("refresh_token") >= 2);
    assert_eq!(fixture.requests("devicecode"), 1);
}

#[test]
fn a_revoked_refresh_token_asks_to_sign_in_again_once() {
    let fixture = fixture();
    fixture.script(0, DeviceCodeOutcome::Approve, false);
    fixture.server.set_entra_settings(EntraSettings {
        access_token_lifetime_seconds: 1,
        ..EntraSettings::default()
    });
    let session = fixture.sign_in().expect("signed in");
    fixture.server.revoke_refresh_tokens(None, None);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let error = revoke(&session).expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(
        error.message.contains("Connect-MgGraph"),
        "{}",
        error.message
    );
    assert!(error.message.contains("AADSTS50173"), "{}", error.message);
    let asked = fixture.requests("refresh_token");
    let again = revoke(&session).expect_err("still refused");
    assert!(again.message.contains("sign in again") || again.message.contains("Sign in again"));
    assert_eq!(
        fixture.requests("refresh_token"),
        asked,
        "no second refresh"
    );
}
