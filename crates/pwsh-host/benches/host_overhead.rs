//! `cargo bench -p pwsh-host --bench host-overhead [-- --calls N --rounds R --output PATH]`:
//! times one `Invoke-MgBetaInvalidateAllUserRefreshToken` call in a warm runspace against a
//! loopback mock, beside `Invoke-RestMethod` doing the same POST in the same runspace and the
//! raw Rust core call, and writes the table to `bench/results/host-overhead.md` (medians over
//! at least 1,000 calls per layer; fewer calls print the table without writing it).
//!
//! Needs what the e2e tests need: PowerShell, the built module and bridge (`./build.ps1`).

#[path = "support/overhead.rs"]
mod overhead;

use std::path::PathBuf;
use std::process::ExitCode;

use graph_mock::{MockConfig, MockServer, TokenRequest, User};
use overhead::Target;
use pwsh_host::HostConfig;

const USER_ID: &str = "0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const USER_UPN: &str = "adele@contoso.com";

struct Options {
    calls: usize,
    rounds: usize,
    output: Option<PathBuf>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        calls: 2000,
        rounds: 4,
        output: None,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            arguments
                .next()
                .and_then(|value| value.parse().ok())
                .filter(|value| *value > 0)
                .ok_or(format!("{name} needs a positive whole number"))
        };
        match argument.as_str() {
            "--calls" => options.calls = number("--calls")?,
            "--rounds" => options.rounds = number("--rounds")?,
            "--output" => {
                options.output = Some(
                    arguments
                        .next()
                        .map(PathBuf::from)
                        .ok_or("--output needs a path")?,
                );
            }
            // cargo bench passes --bench; the libtest options make no sense here.
            "--bench" => {}
            other => {
                return Err(format!(
                    "unknown argument '{other}': use --calls N, --rounds R, --output PATH"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("host-overhead: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    let host = pwsh_host::start(&HostConfig::default()).map_err(|error| error.to_string())?;
    let module = pwsh_host::module::find_built_module().map_err(|error| error.to_string())?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|error| format!("no tokio runtime for the mock: {error}"))?;
    let server = runtime
        .block_on(MockServer::start(
            MockConfig::default().with_users([User::new(USER_ID, USER_UPN)]),
        ))
        .map_err(|error| format!("the mock did not start: {error}"))?;
    let target = Target {
        base_url: server.base_url(),
        token: server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"])),
        user: USER_UPN.into(),
    };

    let runspace = host.open_runspace().map_err(|error| error.to_string())?;
    runspace
        .import_module(&module)
        .map_err(|error| error.to_string())?;
    overhead::connect_module(&runspace, &target)?;
    eprintln!(
        "host-overhead: {} calls per layer in {} rounds ...",
        options.calls, options.rounds
    );
    let load_before = load_average();
    let measurement = overhead::measure(&runspace, &target, options.calls, options.rounds)?;
    let load_after = load_average();

    let info = host.info();
    let context = vec![
        (
            "date",
            time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        ),
        ("machine", machine()),
        (
            "load average (1 min) before / after, other processes included",
            format!("{load_before} / {load_after}"),
        ),
        (
            "software",
            format!(
                "PowerShell {} on {}, module {}, release build",
                info.version,
                info.dotnet,
                module.display()
            ),
        ),
    ];
    let markdown = overhead::render_markdown(&measurement, &context);
    println!("{markdown}");

    let output = options.output.or_else(|| {
        (measurement.calls >= 1000).then(|| {
            pwsh_host::module::workspace_root()
                .join("bench")
                .join("results")
                .join("host-overhead.md")
        })
    });
    match output {
        Some(path) => {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)
                    .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
            }
            std::fs::write(&path, markdown)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
            eprintln!("host-overhead: wrote {}", path.display());
        }
        None => eprintln!(
            "host-overhead: fewer than 1,000 calls per layer: the table was not written (use --output to write it anyway)"
        ),
    }
    drop(runspace);
    Ok(())
}

/// The 1-minute load average: how busy the machine was (timings on a busy machine swing).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// CPU model, logical CPUs, OS and kernel, from what the system tells.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    format!("{cpu}, {cores} logical CPUs, {os}, kernel {kernel}")
}
