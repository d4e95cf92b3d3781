//! The `pwsh-host` command line, run as a child process the way automation runs it: exit codes
//! for scripts that succeed, write errors, throw or `exit N`, and clear errors (never a crash)
//! for a missing or broken PowerShell, a missing script and a module that is missing or broken.
//! One scenario drives the real cmdlet against the mock from a script file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use graph_mock::{MockConfig, MockServer, TokenRequest, User};
use pwsh_host::error::exit_code;

fn pwsh_host() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pwsh-host"));
    command.env_remove("PWSH_HOST_PSHOME");
    // Add-MgEnvironment saves environments in the module's data folder: never the real user's.
    command.env(
        "GRAPH_BETA_DATA_DIR",
        std::env::temp_dir().join("graph-beta-pwsh-host-tests"),
    );
    command
}

fn script(folder: &Path, name: &str, text: &str) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, text).expect("script written");
    path
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("pwsh-host runs");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("pwsh-host crashed: {status}"));
    (
        code,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn a_script_that_succeeds_exits_0_and_its_output_goes_to_stdout() {
    let folder = tempfile::tempdir().unwrap();
    let path = script(
        folder.path(),
        "ok.ps1",
        "param($Name, [switch] $Loud)\n\"hello $Name\"\nif ($Loud) { 'LOUD' }\nWrite-Warning 'careful'",
    );
    let (code, stdout, stderr) = run(pwsh_host()
        .arg("--no-module")
        .arg(&path)
        .args(["-Name", "Bob", "-Loud"]));
    assert_eq!(code, exit_code::SUCCESS, "{stderr}");
    assert_eq!(stdout, "hello Bob\nLOUD\n");
    assert_eq!(stderr, "WARNING: careful\n");
}

#[test]
fn errors_throws_and_exit_give_their_exit_codes() {
    let folder = tempfile::tempdir().unwrap();
    let cases = [
        (
            "errors.ps1",
            "Write-Error 'one'; 'went on'",
            exit_code::SCRIPT_ERRORS,
            "one",
        ),
        (
            "throws.ps1",
            "'before'; throw 'kaboom'; 'after'",
            exit_code::SCRIPT_THREW,
            "kaboom",
        ),
        (
            "parse.ps1",
            "if ( {",
            exit_code::SCRIPT_THREW,
            "MissingEndCurlyBrace",
        ),
        ("exit.ps1", "'x'; exit 7", 7, ""),
    ];
    // One process per case, run side by side: each starts its own .NET.
    let children: Vec<_> = cases
        .iter()
        .map(|(name, text, _, _)| {
            let path = script(folder.path(), name, text);
            pwsh_host()
                .arg("--no-module")
                .arg(path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("starts")
        })
        .collect();
    for ((name, _, expected, message), child) in cases.iter().zip(children) {
        let output = child.wait_with_output().expect("ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(*expected), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
}

#[test]
fn exit_at_the_top_of_a_command_text_gives_its_code() {
    let (code, stdout, stderr) = run(pwsh_host().args(["--no-module", "-c", "'a'; exit 3; 'b'"]));
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stdout, "a\n");
}

#[test]
fn json_mode_writes_one_record_per_line_and_a_completion() {
    let (code, stdout, stderr) = run(pwsh_host().args([
        "--no-module",
        "--json",
        "-c",
        "[pscustomobject]@{ a = 1 }; Write-Error 'e'",
    ]));
    assert_eq!(code, exit_code::SCRIPT_ERRORS, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["stream"], "output");
    assert_eq!(lines[0]["value"], serde_json::json!({"a": 1}));
    assert_eq!(lines[1]["stream"], "error");
    assert_eq!(lines[2]["stream"], "completed");
    assert_eq!(lines[2]["hadErrors"], true);
}

#[test]
fn a_script_file_that_does_not_exist_exits_66() {
    let (code, _, stderr) = run(pwsh_host().args(["--no-module", "/no/such/script.ps1"]));
    assert_eq!(code, exit_code::NOT_FOUND);
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn a_module_path_that_does_not_exist_exits_66_and_a_broken_module_exits_65() {
    let folder = tempfile::tempdir().unwrap();
    let path = script(folder.path(), "ok.ps1", "'ok'");
    let (code, _, stderr) = run(pwsh_host()
        .args(["--module", "/no/such/Module.psd1"])
        .arg(&path));
    assert_eq!(code, exit_code::NOT_FOUND, "{stderr}");
    assert!(
        stderr.contains("'/no/such/Module.psd1' does not exist"),
        "{stderr}"
    );

    let broken = script(folder.path(), "Broken.psd1", "@{ not a manifest");
    let (code, _, stderr) = run(pwsh_host().arg("--module").arg(&broken).arg(&path));
    assert_eq!(code, exit_code::MODULE_IMPORT, "{stderr}");
    assert!(stderr.contains("could not be imported"), "{stderr}");
}

#[test]
fn no_powershell_exits_69_and_says_how_to_install_one() {
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(pwsh_host()
        .env("PATH", empty.path())
        .env("HOME", empty.path())
        .env("USERPROFILE", empty.path())
        .args(["--no-module", "-c", "'x'"]));
    let installed_by_package = [
        "/opt/microsoft/powershell/7",
        "/usr/local/microsoft/powershell/7",
    ]
    .iter()
    .any(|folder| Path::new(folder).join("pwsh.dll").is_file());
    if installed_by_package {
        // A system-wide PowerShell is still found without PATH and HOME.
        assert_eq!(code, exit_code::SUCCESS, "{stderr}");
    } else {
        assert_eq!(code, exit_code::UNAVAILABLE, "{stderr}");
        assert!(
            stderr.contains("dotnet tool install --global PowerShell"),
            "{stderr}"
        );
    }
}

#[test]
fn a_broken_or_missing_powershell_folder_exits_69_with_the_reason() {
    let (code, _, stderr) =
        run(pwsh_host().args(["--pwsh", "/no/such/pwsh", "--no-module", "-c", "'x'"]));
    assert_eq!(code, exit_code::UNAVAILABLE, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");

    let broken = tempfile::tempdir().unwrap();
    for file in [
        "pwsh.dll",
        "pwsh.deps.json",
        "System.Management.Automation.dll",
    ] {
        std::fs::write(broken.path().join(file), b"not an assembly").unwrap();
    }
    let (code, _, stderr) =
        run(pwsh_host()
            .arg("--pwsh")
            .arg(broken.path())
            .args(["--no-module", "-c", "'x'"]));
    assert_eq!(code, exit_code::UNAVAILABLE, "{stderr}");
    assert!(stderr.contains("is broken"), "{stderr}");
}

#[test]
fn a_wrong_command_line_exits_64() {
    let (code, _, stderr) = run(pwsh_host().arg("--no-such-option"));
    assert_eq!(code, exit_code::USAGE, "{stderr}");
}

#[test]
fn a_timeout_stops_the_script_and_exits_124() {
    let (code, stdout, stderr) = run(pwsh_host().args([
        "--no-module",
        "--timeout",
        "2",
        "-c",
        "'started'; Start-Sleep -Seconds 30; 'never'",
    ]));
    assert_eq!(code, exit_code::TIMED_OUT, "{stderr}");
    // On a busy machine the first invocation may not even reach 'started' in time.
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(stderr.contains("--timeout"), "{stderr}");
}

#[test]
fn a_script_file_revokes_through_the_module_against_the_mock() {
    let module = pwsh_host::module::find_built_module()
        .unwrap_or_else(|error| panic!("this test needs the built module: {error}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(MockServer::start(MockConfig::default().with_users([
            User::new("0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "adele@contoso.com"),
        ])))
        .unwrap();
    let token = server.mint_token(&TokenRequest::app_only(["User.RevokeSessions.All"]));
    let folder = tempfile::tempdir().unwrap();
    let path = script(
        folder.path(),
        "revoke.ps1",
        "param($Url, $Token, $UserId)
Add-MgEnvironment -Name Mock -GraphEndpoint $Url -AzureADEndpoint $Url | Out-Null
Connect-MgGraph -Environment Mock -AccessToken (ConvertTo-SecureString $Token -AsPlainText -Force) -NoWelcome
Invoke-MgBetaInvalidateAllUserRefreshToken -UserId $UserId",
    );
    let revoke = |user: &str| {
        run(pwsh_host().arg("--module").arg(&module).arg(&path).args([
            "-Url",
            &server.base_url(),
            "-Token",
            &token,
            "-UserId",
            user,
        ]))
    };
    let (code, stdout, stderr) = revoke("adele@contoso.com");
    assert_eq!(
        (code, stdout.as_str()),
        (exit_code::SUCCESS, "true\n"),
        "{stderr}"
    );
    assert_eq!(
        server.revocations("0b9a3f6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        1
    );

    let (code, stdout, stderr) = revoke("nobody@contoso.com");
    assert_eq!(code, exit_code::SCRIPT_ERRORS, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("FullyQualifiedErrorId: Request_ResourceNotFound,"),
        "{stderr}"
    );
}
