//! The `graph-mock` binary: runs the mock Graph server for out-of-process callers (Pester tests,
//! benchmarks). It prints `listening on http://127.0.0.1:PORT` once bound, so the caller can read
//! the port, and with `--exit-with-stdin` it exits when its stdin closes, so a test runner that
//! dies cannot leak it.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use graph_mock::{MockConfig, MockServer};

/// Mock Microsoft Graph server on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(name = "graph-mock", version, about)]
struct Cli {
    /// Port to bind on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// JSON config: {"users":[{"id":"<guid>","userPrincipalName":"a@contoso.com"}],"latencyMs":0,
    /// "throttling":{"enabled":true,"scale":0.01},"chaos":{"throttleRate":0.1,"seed":42}}.
    #[arg(long, value_name = "FILE.json")]
    config: Option<PathBuf>,
    /// Exit when standard input reaches end of file.
    #[arg(long)]
    exit_with_stdin: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = match &cli.config {
        Some(path) => MockConfig::from_file(path)?,
        None => MockConfig::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(run(cli, config))
}

async fn run(cli: Cli, config: MockConfig) -> anyhow::Result<()> {
    let server = MockServer::start_on_port(cli.port, config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", server.base_url())?;
        out.flush()?;
    }
    let stdin_closed = async {
        if cli.exit_with_stdin {
            stdin_eof().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = stdin_closed => {}
        () = terminate_signal() => {}
    }
    server.shutdown().await
}

/// Resolves when stdin reaches EOF (or fails). A plain thread does the blocking reads: tokio's
/// stdin would keep the runtime from shutting down while a read is pending, and this thread simply
/// dies with the process.
async fn stdin_eof() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 1024];
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            let _ = tx.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = rx.await;
        }
        Err(e) => {
            // Without the watcher the server must keep serving, not exit at once.
            eprintln!("graph-mock: cannot watch stdin ({e}); serving until killed");
            std::future::pending::<()>().await;
        }
    }
}

/// Ctrl-C everywhere, and SIGTERM on Unix (what test runners send to stop a child).
async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
