//! The `graph-mock` binary: port announcement, `--config`, and exit on stdin EOF.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

#[tokio::test]
async fn announces_port_serves_config_and_exits_with_stdin() {
    let dir = std::env::temp_dir().join(format!("graph-mock-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let config_path = dir.join("config.json");
    let config = json!({"users": [{"id": ALICE_ID, "userPrincipalName": ALICE}], "latencyMs": 0});
    std::fs::write(&config_path, config.to_string()).unwrap_or_else(|e| panic!("{e}"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_graph-mock"))
        .arg("--config")
        .arg(&config_path)
        .arg("--exit-with-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start graph-mock: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("{e}"));
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let client = client();
    let users = client
        .get(format!("{base}/_mock/users"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json::<serde_json::Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(users["users"][0]["id"], ALICE_ID);
    let token = client
        .post(format!("{base}/_mock/tokens"))
        .json(&json!({"roles": ["User.RevokeSessions.All"]}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json::<serde_json::Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = client
        .post(format!(
            "{base}/beta/users/{ALICE}/invalidateAllRefreshTokens"
        ))
        .bearer_auth(token["accessToken"].as_str().unwrap_or_default())
        .header("content-length", "0")
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(status, 200);

    // Closing stdin is the parent's "I am gone" signal.
    let stdin = child.stdin.take();
    if let Some(mut s) = stdin {
        let _ = s.flush();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ => break None,
        }
    };
    if exit.is_none() {
        let _ = child.kill();
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        exit.is_some_and(|s| s.success()),
        "graph-mock did not exit cleanly: {exit:?}"
    );
}

#[test]
fn bad_config_fails_before_announcing() {
    let output = Command::new(env!("CARGO_BIN_EXE_graph-mock"))
        .args(["--config", "/nonexistent/graph-mock.json"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read config file"));
}
