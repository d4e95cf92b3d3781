//! The `hostile-server` binary, for out-of-process tests (Pester): binds a loopback address,
//! prints `listening on http://IP:PORT`, and exits when its standard input closes, so a test
//! run that dies leaves nothing behind.

use std::io::{Read, Write};
use std::net::IpAddr;

use clap::Parser;
use hostile_server::HostileServer;

/// A loopback server that lies like a hostile Graph or Entra ID would.
#[derive(Parser, Debug)]
#[command(name = "hostile-server", version, about)]
struct Cli {
    /// Loopback address to bind (127.0.0.2 makes a second host).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = HostileServer::start(cli.bind, cli.port).await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {}", server.url())?;
            out.flush()?;
        }
        tokio::task::spawn_blocking(|| {
            let mut sink = [0u8; 256];
            while matches!(std::io::stdin().read(&mut sink), Ok(read) if read > 0) {}
        })
        .await?;
        anyhow::Ok(())
    })
}
