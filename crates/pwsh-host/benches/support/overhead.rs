//! The per-call cost of each layer between a script and Graph, measured in one run against one
//! loopback mock: the raw Rust core call (`graph_core`), the cmdlet in a warm runspace, and
//! `Invoke-RestMethod` sending the same POST in the same runspace; plus, for automation that
//! drives PowerShell from native code, one host `Invoke` per cmdlet call.
//!
//! PowerShell-side timings loop inside one script (one host `Invoke` per block, not per call)
//! and time each call with `Stopwatch.GetTimestamp()`; the same loop around a no-op gives the
//! loop's own cost, which is subtracted. Rounds interleave the layers so drift hits all of them.
//! Shared by the `host-overhead` bench (which writes `bench/results/host-overhead.md`) and a
//! smoke test in the e2e suite (a few calls, nothing written).

use std::time::{Duration, Instant};

use graph_core::runtime::block_on_cancellable;
use graph_core::{
    CancellationToken, Environment, EnvironmentRegistry, RequestOptions, Session, SessionConfig,
    UserId,
};
use pwsh_host::{Request, Runspace};

/// What the layers call: a mock, a token it minted, a user it knows.
pub struct Target {
    /// The mock's base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// A token with `User.RevokeSessions.All`.
    pub token: String,
    /// A user the mock knows, by UPN.
    pub user: String,
}

/// Percentiles of one layer's per-call time, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
    pub samples: usize,
}

/// One run's results.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub calls: usize,
    pub rounds: usize,
    /// The raw core call.
    pub core: Stats,
    /// The cmdlet in a warm runspace, loop cost subtracted.
    pub cmdlet: Stats,
    /// Invoke-RestMethod, same POST, same runspace, loop cost subtracted.
    pub rest: Stats,
    /// `Get-MgContext` in the same loop: a call of this module's cmdlets that sends nothing,
    /// so what PowerShell and the shim cost before any HTTP.
    pub floor: Stats,
    /// The loop's own cost per iteration (subtracted from the three above).
    pub loop_cost: Stats,
    /// One host `Invoke` per cmdlet call, timed from Rust.
    pub host_invoke: Stats,
}

impl Measurement {
    /// What the cmdlet adds per call above the raw core call, in microseconds.
    pub fn cmdlet_overhead(&self) -> f64 {
        self.cmdlet.median - self.core.median
    }

    /// The cmdlet's time as a fraction of Invoke-RestMethod's.
    pub fn cmdlet_to_rest_ratio(&self) -> f64 {
        self.cmdlet.median / self.rest.median
    }
}

/// Registers the mock as environment `Mock` and signs the module in (the module is imported).
pub fn connect_module(runspace: &Runspace, target: &Target) -> Result<(), String> {
    let connected = runspace
        .invoke(
            &Request::script(
                "param($Url, $Token)
                 # Add-MgEnvironment saves what it adds: into a scratch folder, never the user's own.
                 if (-not $env:GRAPH_BETA_DATA_DIR) {
                     $env:GRAPH_BETA_DATA_DIR = Join-Path ([IO.Path]::GetTempPath()) 'graph-beta-pwsh-host'
                 }
                 Add-MgEnvironment -Name Mock -GraphEndpoint $Url -AzureADEndpoint $Url | Out-Null
                 Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $Token -AsPlainText -Force) -NoWelcome",
            )
            .parameter("Url", target.base_url.as_str())
            .parameter("Token", target.token.as_str()),
        )
        .map_err(|error| error.to_string())?;
    match connected.first_error() {
        None => Ok(()),
        Some(error) => Err(format!("Connect-MgGraph failed: {}", error.message)),
    }
}

const LOOPS: &str = r#"
param([int] $Calls, [string] $UserId, [string] $Uri, [string] $Token)
$ErrorActionPreference = 'Stop'
$headers = @{ Authorization = "Bearer $Token" }
$noop = [long[]]::new($Calls)
$cmdlet = [long[]]::new($Calls)
$rest = [long[]]::new($Calls)
$floor = [long[]]::new($Calls)
for ($i = 0; $i -lt $Calls; $i++) {
    $t0 = [System.Diagnostics.Stopwatch]::GetTimestamp()
    $r = $UserId
    $noop[$i] = [System.Diagnostics.Stopwatch]::GetTimestamp() - $t0
}
for ($i = 0; $i -lt $Calls; $i++) {
    $t0 = [System.Diagnostics.Stopwatch]::GetTimestamp()
    $r = Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $UserId
    $cmdlet[$i] = [System.Diagnostics.Stopwatch]::GetTimestamp() - $t0
    if (-not $r) { throw "the cmdlet answered $r" }
}
for ($i = 0; $i -lt $Calls; $i++) {
    $t0 = [System.Diagnostics.Stopwatch]::GetTimestamp()
    $r = Invoke-RestMethod -Method Post -Uri $Uri -Headers $headers
    $rest[$i] = [System.Diagnostics.Stopwatch]::GetTimestamp() - $t0
    if (-not $r.value) { throw "Invoke-RestMethod answered $r" }
}
for ($i = 0; $i -lt $Calls; $i++) {
    $t0 = [System.Diagnostics.Stopwatch]::GetTimestamp()
    $r = Get-MgContext
    $floor[$i] = [System.Diagnostics.Stopwatch]::GetTimestamp() - $t0
}
[pscustomobject]@{
    frequency = [System.Diagnostics.Stopwatch]::Frequency
    floor = $floor -join ','

    noop = $noop -join ','
    cmdlet = $cmdlet -join ','
    rest = $rest -join ','
}
"#;

/// Times `calls` calls of each layer (after a warm-up), in `rounds` interleaved blocks. The
/// runspace must have the module imported and connected to `target` ([`connect_module`]).
pub fn measure(
    runspace: &Runspace,
    target: &Target,
    calls: usize,
    rounds: usize,
) -> Result<Measurement, String> {
    let rounds = rounds.clamp(1, calls.max(1));
    let per_round = calls.div_ceil(rounds);
    let session = core_session(target)?;
    let uri = format!(
        "{}/beta/users/{}/invalidateAllRefreshTokens",
        target.base_url, target.user
    );

    let mut core = Vec::with_capacity(calls);
    let mut noop = Vec::with_capacity(calls);
    let mut cmdlet = Vec::with_capacity(calls);
    let mut rest = Vec::with_capacity(calls);
    let mut floor = Vec::with_capacity(calls);
    let mut host_invoke = Vec::with_capacity(calls);
    // As many warm-up calls as timed ones (up to 2,000): PowerShell interprets a loop body for
    // its first few hundred runs and .NET promotes hot methods to optimized code only after
    // that, so a short warm-up times start-up, not the warm runspace every layer is meant to be in.
    let warm_up = calls.clamp(5, 2000);
    time_core(&session, &target.user, warm_up, &mut Vec::new())?;
    powershell_loops(runspace, target, &uri, warm_up)?;
    time_host_invoke(runspace, &target.user, warm_up, &mut Vec::new())?;
    for _ in 0..rounds {
        time_core(&session, &target.user, per_round, &mut core)?;
        let loops = powershell_loops(runspace, target, &uri, per_round)?;
        noop.extend(loops.noop);
        cmdlet.extend(loops.cmdlet);
        rest.extend(loops.rest);
        floor.extend(loops.floor);
        time_host_invoke(runspace, &target.user, per_round, &mut host_invoke)?;
    }

    let loop_cost = stats(&noop, 0.0);
    Ok(Measurement {
        calls: per_round * rounds,
        rounds,
        core: stats(&core, 0.0),
        cmdlet: stats(&cmdlet, loop_cost.median),
        rest: stats(&rest, loop_cost.median),
        floor: stats(&floor, loop_cost.median),
        loop_cost,
        host_invoke: stats(&host_invoke, 0.0),
    })
}

fn core_session(target: &Target) -> Result<Session, String> {
    let name = format!(
        "bench-{}",
        target.base_url.rsplit(':').next().unwrap_or_default()
    );
    let environment = Environment::user_defined(&name, &target.base_url, &target.base_url)
        .map_err(|error| error.to_string())?;
    // A second measurement in one process finds its environment already there: that is fine.
    let _ = EnvironmentRegistry::global().add(environment);
    // Built from JSON, as the module builds it, so fields added later keep their defaults.
    let config: SessionConfig = serde_json::from_value(serde_json::json!({
        "environment": name,
        "hostDescription": "host-overhead bench",
    }))
    .map_err(|error| error.to_string())?;
    Session::connect_with_access_token(&config, target.token.as_bytes())
        .map_err(|error| error.to_string())
}

/// The raw core call, as the cmdlet makes it: parse the id, call, wait.
fn time_core(
    session: &Session,
    user: &str,
    calls: usize,
    into: &mut Vec<f64>,
) -> Result<(), String> {
    let cancel = CancellationToken::new();
    let options = RequestOptions::default();
    for _ in 0..calls {
        let started = Instant::now();
        let id = UserId::parse(user).map_err(|error| error.to_string())?;
        let outcome = block_on_cancellable(
            &cancel,
            session.invalidate_all_refresh_tokens(&id, &options),
        )
        .map_err(|error| error.to_string())?;
        into.push(micros(started.elapsed()));
        if !outcome.value {
            return Err("the core call answered false".into());
        }
    }
    Ok(())
}

/// One host `Invoke` per cmdlet call, from Rust: what native automation pays per command.
fn time_host_invoke(
    runspace: &Runspace,
    user: &str,
    calls: usize,
    into: &mut Vec<f64>,
) -> Result<(), String> {
    let request =
        Request::command("Invoke-MgBetaInvalidateAllUserRefreshToken").parameter("UserId", user);
    for _ in 0..calls {
        let started = Instant::now();
        let result = runspace
            .invoke(&request)
            .map_err(|error| error.to_string())?;
        into.push(micros(started.elapsed()));
        if let Some(error) = result.first_error() {
            return Err(format!("the cmdlet failed: {}", error.message));
        }
    }
    Ok(())
}

/// Microseconds per iteration of each PowerShell loop.
struct Loops {
    noop: Vec<f64>,
    cmdlet: Vec<f64>,
    rest: Vec<f64>,
    floor: Vec<f64>,
}

/// The no-op, cmdlet, Invoke-RestMethod and Get-MgContext loops.
fn powershell_loops(
    runspace: &Runspace,
    target: &Target,
    uri: &str,
    calls: usize,
) -> Result<Loops, String> {
    let result = runspace
        .invoke(
            &Request::script(LOOPS)
                .parameter("Calls", calls)
                .parameter("UserId", target.user.as_str())
                .parameter("Uri", uri)
                .parameter("Token", target.token.as_str()),
        )
        .map_err(|error| error.to_string())?;
    if let Some(error) = result.first_error() {
        return Err(format!("the timing script failed: {}", error.message));
    }
    let value = &result
        .output
        .first()
        .ok_or("the timing script wrote nothing")?
        .value;
    let frequency = value["frequency"]
        .as_f64()
        .ok_or("the timing script wrote no frequency")?;
    let series = |name: &str| -> Result<Vec<f64>, String> {
        value[name]
            .as_str()
            .ok_or(format!("the timing script wrote no {name} series"))?
            .split(',')
            .map(|ticks| {
                ticks
                    .parse::<f64>()
                    .map(|ticks| ticks * 1e6 / frequency)
                    .map_err(|error| format!("bad {name} sample '{ticks}': {error}"))
            })
            .collect()
    };
    Ok(Loops {
        noop: series("noop")?,
        cmdlet: series("cmdlet")?,
        rest: series("rest")?,
        floor: series("floor")?,
    })
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Median and 10th/90th percentiles, less `minus` (the loop's own cost).
fn stats(samples: &[f64], minus: f64) -> Stats {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |fraction: f64| -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
        sorted[index] - minus
    };
    Stats {
        median: at(0.5),
        p10: at(0.1),
        p90: at(0.9),
        samples: sorted.len(),
    }
}

/// The results note: machine, date, versions, the table and what it means.
pub fn render_markdown(measurement: &Measurement, context: &[(&str, String)]) -> String {
    let m = measurement;
    let overhead = m.cmdlet_overhead();
    let ratio = m.cmdlet_to_rest_ratio();
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    let mut text = String::new();
    text.push_str("# Host overhead: one revocation call, layer by layer\n\n");
    text.push_str(
        "Written by `cargo bench -p pwsh-host --bench host-overhead` (crates/pwsh-host/benches/); \
         one run, against the in-process loopback mock (`graph-mock`), PowerShell hosted \
         in-process by `pwsh-host`.\n\n",
    );
    for (name, value) in context {
        text.push_str(&format!("- {name}: {value}\n"));
    }
    text.push_str(&format!(
        "- calls: {} timed per layer, in {} interleaved rounds, after as many warm-up calls (at most 2,000)\n\n",
        m.cmdlet.samples, m.rounds
    ));
    text.push_str("| layer | median per call | p10 | p90 | above the raw core call |\n");
    text.push_str("| --- | ---: | ---: | ---: | ---: |\n");
    let row = |name: &str, stats: &Stats, relative: Option<f64>| {
        format!(
            "| {name} | {:.1} µs | {:.1} µs | {:.1} µs | {} |\n",
            stats.median,
            stats.p10,
            stats.p90,
            relative.map_or("-".to_owned(), |value| format!("{value:+.1} µs"))
        )
    };
    text.push_str(&row("raw Rust core call (`graph_core`)", &m.core, None));
    text.push_str(&row(
        "`Invoke-MgBetaInvalidateAllUserRefreshToken`, warm runspace",
        &m.cmdlet,
        Some(m.cmdlet.median - m.core.median),
    ));
    text.push_str(&row(
        "`Invoke-RestMethod`, same POST, same runspace",
        &m.rest,
        Some(m.rest.median - m.core.median),
    ));
    text.push_str(&row(
        "`Get-MgContext` (no HTTP), same runspace: PowerShell's floor for a module cmdlet",
        &m.floor,
        None,
    ));
    text.push_str(&row(
        "cmdlet, one host `Invoke` per call from Rust",
        &m.host_invoke,
        Some(m.host_invoke.median - m.core.median),
    ));
    text.push_str(&format!(
        "\nThe PowerShell rows time each call inside one script loop with `Stopwatch.GetTimestamp()` \
         and subtract the same loop around a no-op ({:.1} µs per iteration). The last row is what \
         native automation pays when it sends each cmdlet call as its own request to the host \
         (channel to the runspace thread, a new pipeline, JSON both ways).\n\n",
        m.loop_cost.median
    ));
    text.push_str(&format!(
        "- The cmdlet adds **{overhead:.1} µs** per call above the raw core call (target: under 200 µs, {}).\n",
        verdict(overhead < 200.0)
    ));
    text.push_str(&format!(
        "- Of that, {:.1} µs is what PowerShell and the module's shim cost for any cmdlet call that sends nothing (`Get-MgContext`); the other {:.1} µs is the revocation's own work beyond the core call (marshalling, the call through the C ABI, building the output and verbose text).\n",
        m.floor.median,
        overhead - m.floor.median
    ));
    text.push_str(&format!(
        "- The cmdlet takes **{ratio:.2}×** the time of `Invoke-RestMethod` for the same POST, \
         {:.1} µs less per call (target: faster, {}).\n",
        m.rest.median - m.cmdlet.median,
        verdict(ratio < 1.0)
    ));
    text
}
