//! `pwsh-host`: runs a PowerShell script file in-process with the module loaded, for automation
//! that starts from native code. It hosts PowerShell itself (no `pwsh` child process), streams
//! what the script writes (output on stdout, errors, warnings and verbose lines on stderr, or
//! every record as one JSON line with `--json`), and exits with a code that says how it went:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | the script wrote no error |
//! | 1 | the script wrote errors (non-terminating) |
//! | 2 | the script threw (a terminating error, including a parse error) |
//! | N | the script ended with `exit N` and threw nothing (in a file, only N other than 0 counts) |
//! | 64 | the command line is wrong |
//! | 65 | a module failed to import |
//! | 66 | the script file or a module path does not exist, or the module is not built |
//! | 69 | no usable PowerShell, .NET or bridge |
//! | 70 | a failure inside the host |
//! | 124 | `--timeout` passed and the script was stopped |
//! | 130 | the script was stopped by Ctrl+C |
//!
//! Script arguments follow `pwsh -File`: `-Name value`, `-Name:value`, `-Switch`, positional
//! values, and `--` to make the rest positional. Not handled yet: a switch followed by a
//! positional value (write `-Switch:true` or put switches last), and reading the script from stdin.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pwsh_host::error::exit_code;
use pwsh_host::{ErrorRecord, HostConfig, HostError, Record, Request};
use serde_json::{Map, Value};

/// Run a PowerShell script in-process, with Microsoft.Graph.Beta.Users.Actions loaded.
#[derive(Debug, Parser)]
#[command(name = "pwsh-host", version, about, long_about = None)]
struct Cli {
    /// The script file to run.
    #[arg(required_unless_present_any = ["command", "host_info"])]
    script: Option<PathBuf>,

    /// The script's arguments: -Name value, -Name:value, -Switch, positional values.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    arguments: Vec<String>,

    /// Run this script text instead of a file.
    #[arg(short = 'c', long, conflicts_with = "script")]
    command: Option<String>,

    /// A module to import first: its .psd1, folder, or a name from $env:PSModulePath
    /// (repeatable). Default: the built Microsoft.Graph.Beta.Users.Actions
    /// (GRAPH_MODULE_MANIFEST, or out/ in the repository).
    #[arg(short, long = "module", value_name = "MODULE")]
    modules: Vec<PathBuf>,

    /// Import no module.
    #[arg(long, conflicts_with = "modules")]
    no_module: bool,

    /// The PowerShell to host: its folder ($PSHOME), pwsh.dll, or a pwsh executable.
    /// Default: PWSH_HOST_PSHOME, pwsh on PATH, the .NET global tool, the usual folders.
    #[arg(long, value_name = "PATH")]
    pwsh: Option<PathBuf>,

    /// Write every record as one JSON line on stdout ({"stream":"output","value":...}, ...),
    /// then a {"stream":"completed",...} line.
    #[arg(long)]
    json: bool,

    /// Stop the script after this many seconds (exit code 124).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,

    /// Print the PowerShell, .NET and bridge this host uses, and exit.
    #[arg(long)]
    host_info: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::SUCCESS
            };
            let _ = error.print();
            return exit(code);
        }
    };
    match run(&cli) {
        Ok(code) => exit(code),
        Err(error) => {
            report_host_error(&cli, &error);
            exit(error.exit_code())
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code.rem_euclid(256)).unwrap_or(1))
}

fn run(cli: &Cli) -> Result<i32, HostError> {
    if let Some(seconds) = cli.timeout {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(usage("--timeout must be a positive number of seconds"));
        }
    }
    // Check the inputs before starting .NET: a typo should not cost a second.
    let script = match &cli.script {
        Some(path) => {
            if !path.is_file() {
                return Err(HostError::ScriptNotFound { path: path.clone() });
            }
            Some(std::path::absolute(path).unwrap_or_else(|_| path.clone()))
        }
        None => None,
    };
    let modules = if cli.no_module || cli.host_info {
        Vec::new()
    } else if cli.modules.is_empty() {
        vec![pwsh_host::module::find_built_module()?]
    } else {
        cli.modules.clone()
    };

    let host = pwsh_host::start(&HostConfig {
        powershell: cli.pwsh.clone(),
        ..HostConfig::default()
    })?;
    if cli.host_info {
        let info = host.info();
        println!("PowerShell {} in {}", info.version, info.home.display());
        println!("{} from {}", info.dotnet, info.dotnet_root.display());
        println!("bridge {}", info.bridge.display());
        return Ok(exit_code::SUCCESS);
    }

    let runspace = host.open_runspace()?;
    for module in &modules {
        runspace.import_module(module)?;
    }
    let mut request = match (&script, &cli.command) {
        (Some(script), _) => {
            let mut request = Request::command(script.to_string_lossy());
            let (parameters, positional) = split_arguments(&cli.arguments);
            for (name, value) in parameters {
                request = request.parameter(name, value);
            }
            for value in positional {
                request = request.argument(value);
            }
            request
        }
        (None, Some(text)) => Request::script(text.clone()),
        (None, None) => return Err(usage("give a script file or --command")),
    };
    if let Some(seconds) = cli.timeout {
        request = request.timeout(Duration::from_secs_f64(seconds));
    }

    let stopper = runspace.stopper();
    // Ctrl+C stops the pipeline cleanly instead of killing the process mid-call; if a handler
    // cannot be installed, Ctrl+C keeps its default meaning.
    let _ = ctrlc::set_handler(move || stopper.stop());

    let mut errors = 0usize;
    let mut threw = false;
    let completion = runspace.invoke_with(&request, |record| {
        match &record {
            Record::Error(error) if error.terminating => threw = true,
            Record::Error(_) => errors += 1,
            _ => {}
        }
        if cli.json {
            print_json_line(&serde_json::to_value(&record).unwrap_or(Value::Null));
        } else {
            print_record(&record);
        }
    })?;
    if cli.json {
        let mut line = Map::new();
        line.insert("stream".into(), Value::from("completed"));
        if let Ok(Value::Object(fields)) = serde_json::to_value(completion) {
            line.extend(fields);
        }
        print_json_line(&Value::Object(line));
    } else if completion.timed_out {
        eprintln!(
            "pwsh-host: the script ran longer than --timeout {} s and was stopped",
            cli.timeout.unwrap_or_default()
        );
    } else if completion.stopped {
        eprintln!("pwsh-host: the script was stopped");
    }
    let code = if completion.timed_out {
        exit_code::TIMED_OUT
    } else if completion.stopped {
        exit_code::STOPPED
    } else if threw {
        exit_code::SCRIPT_THREW
    } else if let Some(code) = completion.exit_code {
        code
    } else if let Some(code) = completion.last_exit_code.filter(|code| *code != 0) {
        code
    } else if errors > 0 {
        exit_code::SCRIPT_ERRORS
    } else {
        exit_code::SUCCESS
    };
    Ok(code)
}

/// `pwsh -File`-style arguments: named parameters (in order) and positional values.
fn split_arguments(arguments: &[String]) -> (Map<String, Value>, Vec<Value>) {
    let mut parameters = Map::new();
    let mut positional = Vec::new();
    let mut index = 0;
    let mut only_positional = false;
    while index < arguments.len() {
        let argument = &arguments[index];
        index += 1;
        if only_positional {
            positional.push(Value::from(argument.as_str()));
            continue;
        }
        if argument == "--" {
            only_positional = true;
            continue;
        }
        let Some(name) = parameter_name(argument) else {
            positional.push(Value::from(argument.as_str()));
            continue;
        };
        if let Some((name, value)) = name.split_once(':') {
            parameters.insert(name.to_owned(), typed_value(value));
        } else if index < arguments.len() && parameter_name(&arguments[index]).is_none() {
            parameters.insert(name.to_owned(), Value::from(arguments[index].as_str()));
            index += 1;
        } else {
            parameters.insert(name.to_owned(), Value::Bool(true));
        }
    }
    (parameters, positional)
}

/// `Name` (or `Name:value`) for an argument written `-Name`, else None (`-5` is a value).
fn parameter_name(argument: &str) -> Option<&str> {
    let name = argument.strip_prefix('-')?;
    let first = name.chars().next()?;
    (first.is_alphabetic() || first == '_').then_some(name)
}

/// `-Switch:false` must be false, not the non-empty (so true) string "false".
fn typed_value(value: &str) -> Value {
    match value.to_ascii_lowercase().as_str() {
        "true" | "$true" => Value::Bool(true),
        "false" | "$false" => Value::Bool(false),
        _ => Value::from(value),
    }
}

fn print_record(record: &Record) {
    match record {
        Record::Output(output) => match &output.value {
            Value::String(text) => println!("{text}"),
            value => println!("{value}"),
        },
        Record::Information(information) => println!("{}", information.message),
        Record::Error(error) => print_error(error),
        Record::Warning(line) => eprintln!("WARNING: {}", line.message),
        Record::Verbose(line) => eprintln!("VERBOSE: {}", line.message),
        Record::Debug(line) => eprintln!("DEBUG: {}", line.message),
    }
}

fn print_error(error: &ErrorRecord) {
    match &error.command {
        Some(command) if !command.is_empty() => eprintln!("{command}: {}", error.message),
        _ => eprintln!("error: {}", error.message),
    }
    // A parse error's message already says where it is.
    let positioned = error.message.starts_with("At ");
    if let Some(position) = error.position_message.as_ref().filter(|_| !positioned) {
        for line in position.lines() {
            eprintln!("    {line}");
        }
    }
    eprintln!(
        "    FullyQualifiedErrorId: {}, Category: {}",
        error.fully_qualified_error_id, error.category
    );
}

fn print_json_line(value: &Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{value}");
}

fn report_host_error(cli: &Cli, error: &HostError) {
    if cli.json {
        let line = serde_json::json!({
            "stream": "hostError",
            "exitCode": error.exit_code(),
            "message": error.to_string(),
        });
        print_json_line(&line);
    }
    eprintln!("pwsh-host: {error}");
}

fn usage(message: &str) -> HostError {
    HostError::Usage(message.into())
}
