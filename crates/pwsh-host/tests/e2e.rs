//! End to end: the real `Invoke-MgBetaInvalidateAllUserRefreshToken`, from the built module,
//! in PowerShell hosted in this process, against the mock Graph over loopback. The scenarios
//! are the Pester suite's core ones, seen through the host's records (ids, categories,
//! exception properties) and the mock's journal, plus what the host itself promises: streaming,
//! stopping, terminating errors as data, bad input as errors rather than crashes.
//!
//! .NET starts once per process, so every scenario lives in this one binary and shares one
//! runtime, one mock and one runspace; a lock serializes them (the module's sign-in is
//! process-wide, like the official module's). Without PowerShell, or without `./build.ps1`
//! having run, every test fails with a message saying what to install or run.

#[path = "../benches/support/overhead.rs"]
mod overhead;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use graph_mock::{MockConfig, MockServer, RecordedRequest, TokenRequest, User};
use pwsh_host::{HostConfig, HostError, Invocation, Record, Request, Runspace};
use serde_json::{Value, json};

const CMDLET: &str = "Invoke-MgBetaInvalidateAllUserRefreshToken";
const CMDLET_CLASS: &str =
    "Microsoft.Graph.Beta.PowerShell.Cmdlets.InvokeMgBetaInvalidateAllUserRefreshToken";
const ADELE_ID: &str = "0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const ADELE_UPN: &str = "adele.vance@contoso.com";
const GUEST_ID: &str = "6f1c2d3e-0000-4000-8000-000000000002";
const GUEST_UPN: &str = "megan_fabrikam.com#EXT#@contoso.onmicrosoft.com";
const DOLLAR_ID: &str = "6f1c2d3e-0000-4000-8000-000000000003";
const DOLLAR_UPN: &str = "$svc@contoso.com";

struct Fixture {
    server: MockServer,
    runspace: Runspace,
    token: String,
    // Last: the mock's runtime outlives the server.
    _runtime: tokio::runtime::Runtime,
}

static FIXTURE: OnceLock<Mutex<Fixture>> = OnceLock::new();

/// The shared fixture, locked for one test; started by the first test that asks.
fn fixture() -> MutexGuard<'static, Fixture> {
    let fixture = FIXTURE
        .get_or_init(|| Mutex::new(Fixture::start()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    fixture.server.clear_requests();
    fixture
}

impl Fixture {
    fn start() -> Fixture {
        let host = pwsh_host::start(&HostConfig::default())
            .unwrap_or_else(|error| panic!("the e2e suite needs PowerShell: {error}"));
        let module = pwsh_host::module::find_built_module()
            .unwrap_or_else(|error| panic!("the e2e suite needs the built module: {error}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the mock");
        let server = runtime
            .block_on(MockServer::start(MockConfig::default().with_users([
                User::new(ADELE_ID, ADELE_UPN),
                User::new(GUEST_ID, GUEST_UPN),
                User::new(DOLLAR_ID, DOLLAR_UPN),
            ])))
            .expect("the mock server starts");
        let token = server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
        let runspace = host.open_runspace().expect("a runspace opens");
        runspace
            .import_module(&module)
            .unwrap_or_else(|error| panic!("the built module imports: {error}"));
        let fixture = Fixture {
            server,
            runspace,
            token,
            _runtime: runtime,
        };
        fixture.connect(&fixture.token.clone());
        fixture
    }

    fn target(&self) -> overhead::Target {
        overhead::Target {
            base_url: self.server.base_url(),
            token: self.token.clone(),
            user: ADELE_UPN.into(),
        }
    }

    fn connect(&self, token: &str) {
        let target = overhead::Target {
            token: token.into(),
            ..self.target()
        };
        overhead::connect_module(&self.runspace, &target).expect("Connect-MgGraph to the mock");
    }

    fn run(&self, request: Request) -> Invocation {
        self.runspace
            .invoke(&request.timeout(Duration::from_secs(60)))
            .unwrap_or_else(|error| panic!("the host failed: {error}"))
    }

    fn revoke(&self, user: &str) -> Invocation {
        self.run(Request::command(CMDLET).parameter("UserId", user))
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

/// Signs back in with the good token when a test that changed the sign-in ends, even failing.
struct Reconnect<'a>(&'a Fixture);

impl Drop for Reconnect<'_> {
    fn drop(&mut self) {
        self.0.connect(&self.0.token);
    }
}

fn error_ids(invocation: &Invocation) -> Vec<&str> {
    invocation
        .errors
        .iter()
        .chain(&invocation.terminating_error)
        .map(|error| error.fully_qualified_error_id.as_str())
        .collect()
}

// ---- the cmdlet, as the Pester suite drives it -------------------------------------------

#[test]
fn revoking_a_known_user_outputs_true_and_sends_one_post() {
    let f = fixture();
    let before = f.server.revocations(ADELE_ID);
    let result = f.revoke(ADELE_ID);
    assert!(result.succeeded(), "{result:#?}");
    assert_eq!(result.values(), [&Value::Bool(true)]);
    assert_eq!(result.output[0].type_names[0], "System.Boolean");
    let requests = f.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].raw_path,
        format!("/beta/users/{ADELE_ID}/invalidateAllRefreshTokens")
    );
    assert_eq!(requests[0].status, Some(200));
    assert_eq!(f.server.revocations(ADELE_ID), before + 1);
}

#[test]
fn the_result_is_a_bool_that_also_answers_value() {
    let f = fixture();
    let result = f.run(
        Request::script(format!(
            "param($UserId) $r = {CMDLET} -UserId $UserId; $r -is [bool]; $r.Value; ($r -eq $true)"
        ))
        .parameter("UserId", ADELE_UPN),
    );
    assert_eq!(result.values(), [&json!(true), &json!(true), &json!(true)]);
}

#[test]
fn each_request_carries_the_token_a_fresh_client_request_id_and_the_modules_user_agent() {
    let f = fixture();
    f.revoke(ADELE_ID);
    f.revoke(ADELE_ID);
    let requests = f.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {}", f.token).as_str())
    );
    let first = requests[0].header("client-request-id").expect("an id");
    let second = requests[1].header("client-request-id").expect("an id");
    assert_eq!(first.len(), 36, "{first}");
    assert_eq!(&first[14..15], "4", "a version-4 uuid: {first}");
    assert_ne!(first, second);
    let agent = requests[0].header("user-agent").expect("a user agent");
    assert!(
        agent.starts_with(concat!(
            "Microsoft.Graph.Beta.Users.Actions/",
            env!("CARGO_PKG_VERSION"),
            " ("
        )) && agent.contains(" PowerShell/7."),
        "{agent}"
    );
}

#[test]
fn a_guest_upn_with_hash_is_sent_as_percent_23_and_reaches_that_user() {
    let f = fixture();
    let result = f.revoke(GUEST_UPN);
    assert_eq!(result.values(), [&Value::Bool(true)], "{result:#?}");
    let request = &f.requests()[0];
    assert_eq!(
        request.raw_path,
        "/beta/users/megan_fabrikam.com%23EXT%23@contoso.onmicrosoft.com/invalidateAllRefreshTokens"
    );
    assert_eq!(request.user_id.as_deref(), Some(GUEST_UPN));
}

#[test]
fn a_dollar_upn_is_sent_in_the_key_form_and_reaches_that_user() {
    let f = fixture();
    let result = f.revoke(DOLLAR_UPN);
    assert_eq!(result.values(), [&Value::Bool(true)], "{result:#?}");
    let request = &f.requests()[0];
    assert_eq!(
        request.raw_path,
        "/beta/users('$svc@contoso.com')/invalidateAllRefreshTokens"
    );
    assert_eq!(request.user_id.as_deref(), Some(DOLLAR_UPN));
}

#[test]
fn ids_with_slashes_or_question_marks_stay_inside_one_path_segment() {
    let f = fixture();
    for (id, encoded) in [("x/../../groups", "x%2F..%2F..%2Fgroups"), ("a?b", "a%3Fb")] {
        f.server.clear_requests();
        let result = f.revoke(id);
        assert_eq!(result.errors.len(), 1, "{id}: {result:#?}");
        let requests = f.requests();
        assert_eq!(requests.len(), 1, "{id}");
        assert_eq!(
            requests[0].raw_path,
            format!("/beta/users/{encoded}/invalidateAllRefreshTokens")
        );
        assert_eq!(requests[0].user_id.as_deref(), Some(id));
        assert_eq!(requests[0].status, Some(404));
    }
}

#[test]
fn an_unknown_user_is_a_non_terminating_404_with_the_trace_fields() {
    let f = fixture();
    let result = f.revoke("nobody@contoso.com");
    assert!(result.output.is_empty(), "{result:#?}");
    assert!(result.terminating_error.is_none(), "{result:#?}");
    assert!(result.completion.had_errors);
    assert_eq!(result.errors.len(), 1);
    let error = &result.errors[0];
    assert!(
        error
            .fully_qualified_error_id
            .starts_with("Request_ResourceNotFound,"),
        "{error:#?}"
    );
    assert_eq!(error.category, "InvalidOperation");
    assert_eq!(error.target_object.as_deref(), Some("nobody@contoso.com"));
    assert!(
        error.message.starts_with("[Request_ResourceNotFound] : ")
            && error.message.contains("nobody@contoso.com"),
        "{}",
        error.message
    );
    assert_eq!(error.exception_property("StatusCode"), Some(&json!(404)));
    assert_eq!(
        error.exception_property("Code"),
        Some(&json!("Request_ResourceNotFound"))
    );
    let request_id = error
        .exception_property("RequestId")
        .and_then(Value::as_str)
        .expect("a request-id");
    assert_eq!(request_id.len(), 36);
    assert!(error.message.contains(&format!("request-id: {request_id}")));
    let sent = f.requests()[0]
        .header("client-request-id")
        .map(str::to_owned);
    assert_eq!(
        error
            .exception_property("ClientRequestId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        sent
    );
}

#[test]
fn a_failed_item_does_not_stop_the_rest_of_the_pipeline() {
    let f = fixture();
    let result = f.run(
        Request::script(format!(
            "param($Users) $Users | ForEach-Object {{ {CMDLET} -UserId $_ }}"
        ))
        .parameter("Users", json!(["nobody@contoso.com", ADELE_UPN])),
    );
    assert_eq!(result.values(), [&Value::Bool(true)], "{result:#?}");
    assert_eq!(result.errors.len(), 1);
    assert!(result.terminating_error.is_none());
}

#[test]
fn error_action_stop_makes_the_404_terminating_and_keeps_the_output_before_it() {
    let f = fixture();
    let result = f.run(Request::script(format!(
        "'before'; {CMDLET} -UserId nobody@contoso.com -ErrorAction Stop; 'after'"
    )));
    assert_eq!(result.values(), [&json!("before")]);
    let error = result.terminating_error.as_ref().expect("it threw");
    assert_eq!(
        error.fully_qualified_error_id,
        format!("Request_ResourceNotFound,{CMDLET_CLASS}")
    );
    assert!(error.terminating);

    let direct = f.run(
        Request::command(CMDLET)
            .parameter("UserId", "nobody@contoso.com")
            .parameter("ErrorAction", "Stop"),
    );
    assert_eq!(
        direct
            .terminating_error
            .map(|error| error.fully_qualified_error_id),
        Some(format!("Request_ResourceNotFound,{CMDLET_CLASS}"))
    );
}

#[test]
fn a_token_without_the_permission_is_a_403_authorization_request_denied() {
    let f = fixture();
    let _reconnect = Reconnect(&f);
    f.connect(
        &f.server
            .mint_token(&TokenRequest::app_only(["User.Read.All"])),
    );
    let result = f.revoke(ADELE_ID);
    let error = result.errors.first().expect("an error");
    assert!(
        error
            .fully_qualified_error_id
            .starts_with("Authorization_RequestDenied,"),
        "{error:#?}"
    );
    assert_eq!(error.exception_property("StatusCode"), Some(&json!(403)));
}

#[test]
fn a_whitespace_user_id_is_refused_before_anything_is_sent() {
    let f = fixture();
    let result = f.revoke("   ");
    let error = result.first_error().expect("an error");
    assert!(
        error.fully_qualified_error_id.starts_with("InvalidUserId,"),
        "{error:#?}"
    );
    assert_eq!(error.category, "InvalidArgument");
    assert!(f.requests().is_empty());
}

#[test]
fn without_connect_mggraph_it_fails_with_a_clear_terminating_error_and_sends_nothing() {
    let f = fixture();
    let _reconnect = Reconnect(&f);
    let disconnected = f.run(Request::command("Disconnect-MgGraph"));
    assert!(disconnected.succeeded(), "{disconnected:#?}");
    let result = f.revoke(ADELE_ID);
    let error = result.terminating_error.as_ref().expect("it threw");
    assert!(
        error
            .fully_qualified_error_id
            .starts_with("AuthenticationNeeded,"),
        "{error:#?}"
    );
    assert!(
        error.message.contains("Connect-MgGraph"),
        "{}",
        error.message
    );
    assert!(f.requests().is_empty());
}

#[test]
fn what_if_sends_nothing_and_writes_nothing() {
    let f = fixture();
    let result = f.run(
        Request::command(CMDLET)
            .parameter("UserId", ADELE_ID)
            .switch("WhatIf"),
    );
    assert!(
        result.output.is_empty() && result.succeeded(),
        "{result:#?}"
    );
    assert!(f.requests().is_empty());
}

#[test]
fn verbose_lines_of_the_cmdlet_stream_back_when_asked_for() {
    let f = fixture();
    let quiet = f.revoke(ADELE_UPN);
    assert!(quiet.verbose.is_empty());
    let result = f.run(
        Request::command(CMDLET)
            .parameter("UserId", ADELE_UPN)
            .switch("Verbose"),
    );
    assert_eq!(result.values(), [&Value::Bool(true)]);
    assert!(
        result.verbose.iter().any(|line| line.contains(ADELE_UPN)),
        "{:#?}",
        result.verbose
    );
}

#[test]
fn every_runspace_shares_the_one_sign_in() {
    let f = fixture();
    let host = pwsh_host::runtime::current().expect("started");
    let second = host.open_runspace().expect("a second runspace");
    second
        .import_module(&pwsh_host::module::find_built_module().expect("built"))
        .expect("imports again");
    let result = second
        .invoke(&Request::command(CMDLET).parameter("UserId", ADELE_UPN))
        .expect("runs");
    assert_eq!(result.values(), [&Value::Bool(true)], "{result:#?}");
    assert_eq!(f.requests().len(), 1);
}

// ---- the host ------------------------------------------------------------------------------

#[test]
fn records_of_every_stream_arrive_in_the_order_they_were_written() {
    let f = fixture();
    let mut streams = Vec::new();
    let completion = f
        .runspace
        .invoke_with(
            &Request::script(
                "'one'; Write-Warning 'two'; Write-Verbose 'three' -Verbose; Write-Information 'four'; \
                 Write-Error 'five'; Write-Debug 'six' -Debug; Write-Host 'seven'; 'eight'",
            ),
            |record| {
                streams.push(match record {
                    Record::Output(_) => "output",
                    Record::Warning(_) => "warning",
                    Record::Verbose(_) => "verbose",
                    Record::Information(_) => "information",
                    Record::Error(_) => "error",
                    Record::Debug(_) => "debug",
                })
            },
        )
        .expect("runs");
    assert_eq!(
        streams,
        [
            "output",
            "warning",
            "verbose",
            "information",
            "error",
            "debug",
            "information",
            "output"
        ]
    );
    assert!(completion.had_errors);
}

#[test]
fn records_arrive_while_the_script_still_runs() {
    let f = fixture();
    let started = Instant::now();
    let mut first_at = None;
    f.runspace
        .invoke_with(
            &Request::script("'first'; Start-Sleep -Milliseconds 1500; 'second'"),
            |_| {
                first_at.get_or_insert_with(|| started.elapsed());
            },
        )
        .expect("runs");
    let total = started.elapsed();
    let first_at = first_at.expect("a record");
    assert!(
        total - first_at >= Duration::from_millis(1000),
        "first record after {first_at:?}, end after {total:?}"
    );
}

#[test]
fn parameters_arguments_and_pipeline_input_bind_as_in_powershell() {
    let f = fixture();
    let result = f.run(
        Request::script(
            "param([string] $Name, [int] $Count, [switch] $Flag, $Table)
             \"$Name $Count $($Flag.IsPresent) $($Table.key) $($args[0])\"",
        )
        .parameter("Name", "x")
        .parameter("Count", "3")
        .switch("Flag")
        .parameter("Table", json!({"Key": [1, 2]}))
        .argument("positional"),
    );
    assert_eq!(result.values(), [&json!("x 3 True 1 2 positional")]);
    let piped = f.run(Request::command("Measure-Object").input([1, 2, 3]));
    assert_eq!(piped.output[0].value["Count"], json!(3), "{piped:#?}");
}

#[test]
fn output_objects_come_back_as_json() {
    let f = fixture();
    let result = f.run(Request::script(
        "[pscustomobject]@{ Name = 'x'; Items = @(1, 'two'); Nested = [pscustomobject]@{ On = $true } }; Get-MgContext",
    ));
    assert_eq!(
        result.output[0].value,
        json!({"Name": "x", "Items": [1, "two"], "Nested": {"On": true}})
    );
    assert_eq!(result.output[1].value["Environment"], json!("Mock"));
}

#[test]
fn a_script_that_throws_is_a_terminating_record_and_the_runspace_goes_on() {
    let f = fixture();
    let result = f.run(Request::script("'kept'; throw 'kaboom'"));
    assert_eq!(result.values(), [&json!("kept")]);
    let error = result.terminating_error.expect("it threw");
    assert_eq!(error.message, "kaboom");
    assert!(error.position_message.is_some());
    let parse_error = f.run(Request::script("if ( {"));
    assert_eq!(
        parse_error.terminating_error.map(|error| error.category),
        Some("ParserError".to_owned())
    );
    assert_eq!(
        f.run(Request::script("'a'; exit 5; 'b'"))
            .completion
            .exit_code,
        Some(5)
    );
    let after = f.run(Request::script("1 + 1"));
    assert_eq!(after.values(), [&json!(2)]);
    assert_eq!(after.completion.exit_code, None);
}

#[test]
fn a_long_invocation_can_be_stopped_by_a_timeout_or_from_another_thread() {
    let f = fixture();
    let started = Instant::now();
    let result = f
        .runspace
        .invoke(&Request::script("Start-Sleep -Seconds 30").timeout(Duration::from_millis(300)))
        .expect("runs");
    assert!(result.completion.stopped && result.completion.timed_out);
    assert!(started.elapsed() < Duration::from_secs(10));

    let stopper = f.runspace.stopper();
    let done = std::sync::atomic::AtomicBool::new(false);
    let started = Instant::now();
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Again until it ends: a stop before the pipeline has started does nothing.
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(300));
                stopper.stop();
            }
        });
        let result = f
            .runspace
            .invoke(&Request::script(
                "'started'; Start-Sleep -Seconds 30; 'never'",
            ))
            .expect("runs");
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        result
    });
    assert!(result.completion.stopped && !result.completion.timed_out);
    assert_eq!(result.values(), [&json!("started")]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        f.run(Request::script("'still alive'")).values(),
        [&json!("still alive")]
    );
}

#[test]
fn a_malformed_request_is_an_error_not_a_crash() {
    let f = fixture();
    let mut records = 0;
    let error = f
        .runspace
        .invoke_with(&Request::command("  "), |_| records += 1)
        .expect_err("refused");
    assert_eq!(records, 0);
    assert!(
        matches!(&error, HostError::Bridge { kind, .. } if kind == "badRequest"),
        "{error:?}"
    );
    assert_eq!(f.run(Request::script("'fine'")).values(), [&json!("fine")]);
}

#[test]
fn a_module_path_that_does_not_exist_or_does_not_import_is_a_clear_error() {
    let f = fixture();
    let missing = f
        .runspace
        .import_module(Path::new("/no/such/Module.psd1"))
        .expect_err("refused");
    assert!(
        matches!(missing, HostError::ModuleNotFound { .. }),
        "{missing:?}"
    );
    assert!(missing.to_string().contains("does not exist"));

    let folder = tempfile::tempdir().expect("a temp folder");
    let broken = folder.path().join("Broken.psd1");
    std::fs::write(&broken, "@{ this is not a manifest").expect("written");
    let error = f.runspace.import_module(&broken).expect_err("refused");
    assert!(matches!(error, HostError::ModuleImport { .. }), "{error:?}");
    assert_eq!(
        error.exit_code(),
        pwsh_host::error::exit_code::MODULE_IMPORT
    );
}

#[test]
fn asking_for_another_powershell_once_started_is_refused() {
    let _f = fixture();
    let other = tempfile::tempdir().expect("a temp folder");
    for file in [
        "pwsh.dll",
        "pwsh.deps.json",
        "System.Management.Automation.dll",
    ] {
        std::fs::write(other.path().join(file), b"").expect("written");
    }
    let error = pwsh_host::start(&HostConfig {
        powershell: Some(other.path().to_path_buf()),
        ..HostConfig::default()
    })
    .expect_err("refused");
    assert!(
        matches!(error, HostError::AlreadyStarted { .. }),
        "{error:?}"
    );
    let running = pwsh_host::runtime::current().expect("started").info();
    assert!(running.version.starts_with("7."), "{running:?}");
}

#[test]
fn the_overhead_benchmark_runs_at_smoke_size() {
    let f = fixture();
    let measurement = overhead::measure(&f.runspace, &f.target(), 10, 1).expect("measured");
    assert_eq!(measurement.calls, 10);
    for stats in [
        measurement.core,
        measurement.cmdlet,
        measurement.rest,
        measurement.floor,
        measurement.host_invoke,
    ] {
        assert!(
            stats.median.is_finite() && stats.samples == 10,
            "{measurement:#?}"
        );
    }
    assert!(overhead::render_markdown(&measurement, &[]).contains("| layer |"));
    assert!(error_ids(&f.revoke(ADELE_UPN)).is_empty());
}
