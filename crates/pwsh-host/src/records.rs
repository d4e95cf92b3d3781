//! What PowerShell writes, as the bridge reports it: one [`Record`] per item of a stream
//! (output objects as JSON, errors with their fully qualified ids and categories, warnings,
//! verbose, debug and information lines), the [`Completion`] summary, and [`Invocation`], all of
//! one call's records gathered by stream.
//!
//! The JSON shape is the bridge's (`RecordJson.cs`); field names are camelCase. Output values are
//! what `ConvertTo-Json -Compress -EnumsAsStrings` writes (depth 4 unless the request says
//! otherwise), except that scalars are plain values even when PowerShell added note properties.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One item of one of PowerShell's streams, in the order PowerShell wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stream", rename_all = "lowercase")]
pub enum Record {
    /// An output object.
    Output(OutputRecord),
    /// An error: non-terminating (`Write-Error`, a cmdlet's `WriteError`) or the terminating
    /// one that ended the invocation.
    Error(ErrorRecord),
    /// A `Write-Warning` line.
    Warning(MessageRecord),
    /// A `Write-Verbose` line (written only when the verbose preference asks for it).
    Verbose(MessageRecord),
    /// A `Write-Debug` line (written only when the debug preference asks for it).
    Debug(MessageRecord),
    /// A `Write-Information` or `Write-Host` message.
    Information(InformationRecord),
}

/// An output object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputRecord {
    /// PowerShell's type names for it, most derived first (`System.Boolean`, `System.ValueType`, ...).
    pub type_names: Vec<String>,
    /// The object as JSON.
    pub value: Value,
    /// Set when PowerShell could not convert the object: `value` is then its text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_error: Option<String>,
}

/// An error record, with what scripts usually test: the fully qualified id, the category, the
/// target and the exception's own properties (a module's `StatusCode`, `RequestId`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRecord {
    /// True for the error that ended the invocation (a throw, `-ErrorAction Stop`, a parse
    /// error); false for errors written while it went on.
    #[serde(default)]
    pub terminating: bool,
    /// `ErrorId,Command` as in `$_.FullyQualifiedErrorId`.
    pub fully_qualified_error_id: String,
    /// The `ErrorCategory` name (`InvalidOperation`, `InvalidArgument`, ...).
    pub category: String,
    /// PowerShell's category line (`InvalidOperation: (x:String) [Cmdlet], Exception`).
    #[serde(default)]
    pub category_info: String,
    /// The message PowerShell shows (error details if set, else the exception's message).
    pub message: String,
    /// The target object, as text.
    #[serde(default)]
    pub target_object: Option<String>,
    /// The command that wrote it.
    #[serde(default)]
    pub command: Option<String>,
    /// Where in the script it happened (`At line:1 char:1 ...`).
    #[serde(default)]
    pub position_message: Option<String>,
    /// PowerShell's script stack trace.
    #[serde(default)]
    pub script_stack_trace: Option<String>,
    /// The exception's .NET type.
    #[serde(default)]
    pub exception_type: Option<String>,
    /// The exception's own message.
    #[serde(default)]
    pub exception_message: Option<String>,
    /// The exception's own public scalar properties, by .NET name.
    #[serde(default)]
    pub exception: Map<String, Value>,
}

impl ErrorRecord {
    /// The error id: the fully qualified id up to its first comma (`Request_ResourceNotFound`).
    pub fn error_id(&self) -> &str {
        self.fully_qualified_error_id
            .split(',')
            .next()
            .unwrap_or_default()
    }

    /// One of the exception's properties (`StatusCode`, `RequestId`, ...).
    pub fn exception_property(&self, name: &str) -> Option<&Value> {
        self.exception.get(name)
    }

    /// A record for something the host itself could not read or convert.
    pub(crate) fn host(id: &str, message: String) -> Self {
        ErrorRecord {
            terminating: false,
            fully_qualified_error_id: format!("{id},PwshHost"),
            category: "NotSpecified".into(),
            category_info: String::new(),
            message,
            target_object: None,
            command: None,
            position_message: None,
            script_stack_trace: None,
            exception_type: None,
            exception_message: None,
            exception: Map::new(),
        }
    }
}

/// A warning, verbose or debug line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The text.
    pub message: String,
}

/// A `Write-Information` or `Write-Host` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InformationRecord {
    /// The message's text.
    pub message: String,
    /// Where it came from (a script path or command name).
    #[serde(default)]
    pub source: Option<String>,
    /// Its tags (`PSHOST` for `Write-Host`).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// PowerShell's `HadErrors`: an error was written or the invocation threw.
    pub had_errors: bool,
    /// The invocation was stopped (a stop request or a timeout).
    pub stopped: bool,
    /// `$LASTEXITCODE` afterwards (set by `exit N` in a script file, or by a native command).
    #[serde(default)]
    pub last_exit_code: Option<i32>,
    /// The code of an `exit N` at the top level of a script text (PowerShell asks its host to
    /// exit; the runspace stays usable).
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The request's timeout passed and the host stopped it.
    #[serde(default)]
    pub timed_out: bool,
}

/// Everything one invocation wrote, by stream, and how it ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Invocation {
    /// Output objects, in order.
    pub output: Vec<OutputRecord>,
    /// Non-terminating errors, in order.
    pub errors: Vec<ErrorRecord>,
    /// The error that ended the invocation, if one did.
    pub terminating_error: Option<ErrorRecord>,
    /// Warning lines.
    pub warnings: Vec<String>,
    /// Verbose lines.
    pub verbose: Vec<String>,
    /// Debug lines.
    pub debug: Vec<String>,
    /// Information messages (`Write-Information`, `Write-Host`).
    pub information: Vec<InformationRecord>,
    /// How it ended.
    pub completion: Completion,
}

impl Invocation {
    /// Files one record under its stream.
    pub fn push(&mut self, record: Record) {
        match record {
            Record::Output(output) => self.output.push(output),
            Record::Error(error) if error.terminating => self.terminating_error = Some(error),
            Record::Error(error) => self.errors.push(error),
            Record::Warning(line) => self.warnings.push(line.message),
            Record::Verbose(line) => self.verbose.push(line.message),
            Record::Debug(line) => self.debug.push(line.message),
            Record::Information(information) => self.information.push(information),
        }
    }

    /// The output values, in order.
    pub fn values(&self) -> Vec<&Value> {
        self.output.iter().map(|output| &output.value).collect()
    }

    /// No error was written and nothing threw.
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty() && self.terminating_error.is_none() && !self.completion.stopped
    }

    /// The terminating error, or else the first error written.
    pub fn first_error(&self) -> Option<&ErrorRecord> {
        self.terminating_error.as_ref().or(self.errors.first())
    }
}

/// Reads one record from the bridge; a record the host cannot read becomes an error record.
pub(crate) fn parse_record(bytes: &[u8]) -> Record {
    serde_json::from_slice(bytes).unwrap_or_else(|error| {
        Record::Error(ErrorRecord::host(
            "HostRecordUnreadable",
            format!(
                "the host could not read a record from PowerShell ({error}): {}",
                String::from_utf8_lossy(bytes)
            ),
        ))
    })
}

/// A record the bridge could not convert (its failure report) as an error record.
pub(crate) fn conversion_failure(bytes: &[u8]) -> Record {
    #[derive(Deserialize)]
    struct Failure {
        message: String,
    }
    let message = serde_json::from_slice::<Failure>(bytes)
        .map(|failure| failure.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned());
    Record::Error(ErrorRecord::host("HostRecordConversion", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_record_from_the_bridge_keeps_id_category_and_exception_properties() {
        let json = br#"{"stream":"error","terminating":false,"fullyQualifiedErrorId":"Request_ResourceNotFound,Cmd","category":"InvalidOperation","categoryInfo":"x","message":"m","targetObject":"t","command":null,"positionMessage":null,"scriptStackTrace":null,"exceptionType":"E","exceptionMessage":"m","exception":{"StatusCode":404}}"#;
        let Record::Error(error) = parse_record(json) else {
            panic!("not an error record")
        };
        assert_eq!(error.error_id(), "Request_ResourceNotFound");
        assert_eq!(error.category, "InvalidOperation");
        assert_eq!(
            error.exception_property("StatusCode"),
            Some(&Value::from(404))
        );
    }

    #[test]
    fn an_unreadable_record_becomes_an_error_instead_of_a_panic() {
        let Record::Error(error) = parse_record(b"{not json") else {
            panic!("not an error record")
        };
        assert_eq!(error.error_id(), "HostRecordUnreadable");
    }
}
