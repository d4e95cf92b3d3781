//! `-JournalPath`: a JSON Lines file of every user's outcome, the evidence an incident report
//! cites and what lets a run that died pick up where it stopped.
//!
//! One object per line: `user` (as given), `outcome` (`revoked`, `failed`, `verified`,
//! `notConfirmed`), `at` (ISO 8601 UTC), `endpoint` (the Graph endpoint), `action`
//! (`invalidateAllRefreshTokens` or `revokeSignInSessions`), and where Graph
//! answered `status`, `requestId`, `clientRequestId`; verified users add their object `id`,
//! the revocation time and `signInSessionsValidFromDateTime`, failures the error. Records are
//! appended in small groups, each group written with one `write` and made durable with
//! `fsync` before its outcomes are released to the caller, so a run killed at any moment
//! (SIGKILL) leaves every released outcome on disk and at worst one torn last line, which the
//! next open skips (and ends with a newline, so new records never join it).
//!
//! Opening reads the file back: users recorded as `revoked` or `verified` for the same
//! endpoint and action are done and are not sent again (a record without an action, written
//! before there were two, is `invalidateAllRefreshTokens`). Users are matched as given, case-insensitively
//! (Graph matches ids and UPNs that way); an id and a UPN of the same user are two keys.
//! The file is created owner-only (0600), never opened through a symbolic link, and must be a
//! regular file. Nothing secret goes in: no header, no token, and every text from the
//! network through [`clean`]. Two runs sharing one journal at once are not locked out.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ErrorKind, GraphError};
use crate::redact::clean;
use crate::revoke::RevocationAction;
use crate::verify::iso;

/// What happened to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Revoked,
    Failed,
    Verified,
    NotConfirmed,
}

impl Outcome {
    /// Whether a later run may skip the user.
    pub fn is_done(self) -> bool {
        matches!(self, Outcome::Revoked | Outcome::Verified)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Revoked => "revoked",
            Outcome::Failed => "failed",
            Outcome::Verified => "verified",
            Outcome::NotConfirmed => "notConfirmed",
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub user: String,
    pub outcome: Option<Outcome>,
    pub at: String,
    pub endpoint: String,
    #[serde(default)]
    pub action: RevocationAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// The user's object id, when a read-back showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Graph's `Date` of the revocation, when verified or not confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// `signInSessionsValidFromDateTime` as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_sessions_valid_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Record {
    /// A record stamped now; every text field is cleaned when written.
    pub fn new(user: &str, outcome: Outcome) -> Record {
        Record {
            user: user.to_owned(),
            outcome: Some(outcome),
            at: iso(OffsetDateTime::now_utc()),
            ..Record::default()
        }
    }

    fn cleaned(mut self, endpoint: &str, action: RevocationAction) -> Record {
        self.endpoint = endpoint.to_owned();
        self.action = action;
        for field in [
            &mut self.request_id,
            &mut self.client_request_id,
            &mut self.id,
            &mut self.code,
            &mut self.error,
        ] {
            *field = field.take().map(|value| clean(&value));
        }
        self.user = clean(&self.user);
        self
    }
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    endpoint: String,
    action: RevocationAction,
    file: Mutex<File>,
    /// Users (lower-cased) recorded as done for this endpoint and action, with their outcome.
    done: HashMap<String, Outcome>,
    /// Lines that were not records (a torn last line).
    skipped_lines: usize,
}

impl Journal {
    /// Opens or creates the journal at `path` for runs of `action` against `endpoint`.
    pub fn open(
        path: &Path,
        endpoint: &str,
        action: RevocationAction,
    ) -> Result<Journal, GraphError> {
        let existed = match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                return Err(refused(
                    path,
                    "is a symbolic link; the journal is evidence and is never written through a link: pass the path of a regular file",
                ));
            }
            Ok(metadata) if !metadata.is_file() => {
                return Err(refused(
                    path,
                    "is not a regular file: pass the path of a new or existing journal file",
                ));
            }
            Ok(_) => true,
            Err(error) if error.kind() == io::ErrorKind::NotFound => false,
            Err(error) => return Err(io_error(path, "read", &error)),
        };
        let mut file = open_no_follow(path).map_err(|error| io_error(path, "open", &error))?;
        // The check above and the open are two steps: make sure the file opened is the regular
        // file that was checked (O_NOFOLLOW refuses a link swapped in between).
        let metadata = file
            .metadata()
            .map_err(|error| io_error(path, "read", &error))?;
        if !metadata.is_file() {
            return Err(refused(
                path,
                "is not a regular file: pass the path of a new or existing journal file",
            ));
        }
        if !existed {
            make_private(&file).map_err(|error| io_error(path, "protect", &error))?;
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(|error| io_error(path, "read", &error))?;
        let (done, skipped_lines) = read_records(&text, endpoint, action);
        if text.last().is_some_and(|&last| last != b'\n') {
            // A torn last line: end it, so the next record starts a line of its own.
            file.seek(SeekFrom::End(0))
                .and_then(|_| file.write_all(b"\n"))
                .and_then(|()| file.sync_data())
                .map_err(|error| io_error(path, "write", &error))?;
        }
        Ok(Journal {
            path: path.to_owned(),
            endpoint: endpoint.to_owned(),
            action,
            file: Mutex::new(file),
            done,
            skipped_lines,
        })
    }

    /// What the journal records for this user, if a run may skip it.
    pub fn done(&self, user: &str) -> Option<Outcome> {
        self.done.get(&user.to_lowercase()).copied()
    }

    /// How many users the journal records as done for this endpoint and action.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Lines that were not records (at worst the torn last line of a run that was killed).
    pub fn skipped_lines(&self) -> usize {
        self.skipped_lines
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends records and returns once they are on disk (one write, one fsync).
    pub fn append(&self, records: Vec<Record>) -> Result<(), GraphError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut text = Vec::with_capacity(records.len() * 256);
        for record in records {
            serde_json::to_writer(&mut text, &record.cleaned(&self.endpoint, self.action))
                .map_err(|error| GraphError::new(ErrorKind::Internal, error.to_string()))?;
            text.push(b'\n');
        }
        let mut file = self.file.lock();
        file.write_all(&text)
            .and_then(|()| file.sync_data())
            .map_err(|error| io_error(&self.path, "write", &error))
    }
}

fn read_records(
    text: &[u8],
    endpoint: &str,
    action: RevocationAction,
) -> (HashMap<String, Outcome>, usize) {
    let mut done = HashMap::new();
    let mut skipped = 0;
    for line in text.split(|&byte| byte == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(record) if record.endpoint == endpoint && record.action == action => {
                if let Some(outcome) = record.outcome.filter(|outcome| outcome.is_done()) {
                    done.insert(record.user.to_lowercase(), outcome);
                }
            }
            Ok(_) => {}
            Err(_) => skipped += 1,
        }
    }
    (done, skipped)
}

fn open_no_follow(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(unix)]
fn make_private(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // fchmod is not subject to the umask.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn make_private(_file: &File) -> io::Result<()> {
    Ok(())
}

fn refused(path: &Path, why: &str) -> GraphError {
    GraphError::new(
        ErrorKind::JournalRefused,
        format!(
            "the journal path '{}' {why}",
            clean(&path.display().to_string())
        ),
    )
}

fn io_error(path: &Path, action: &str, error: &io::Error) -> GraphError {
    GraphError::new(
        ErrorKind::JournalIo,
        format!(
            "could not {action} the journal '{}': {error}; check that its folder exists and is writable, and that the disk has room",
            clean(&path.display().to_string())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVALIDATE: RevocationAction = RevocationAction::InvalidateAllRefreshTokens;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("journal-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir.join(name)
    }

    #[test]
    fn records_survive_a_reopen_and_a_torn_line_is_skipped() {
        let path = temp_path("j.jsonl");
        let journal = Journal::open(&path, "https://graph", INVALIDATE).expect("open");
        journal
            .append(vec![
                Record::new("A@x.com", Outcome::Revoked),
                Record::new("b@x.com", Outcome::Failed),
                Record::new("c@x.com", Outcome::Verified),
            ])
            .expect("append");
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("file");
        file.write_all(br#"{"user":"d@x.com","outcome":"revo"#)
            .expect("torn");
        drop(file);
        let journal = Journal::open(&path, "https://graph", INVALIDATE).expect("reopen");
        assert_eq!(journal.done("a@X.com"), Some(Outcome::Revoked));
        assert_eq!(journal.done("b@x.com"), None);
        assert_eq!(journal.done("c@x.com"), Some(Outcome::Verified));
        assert_eq!(journal.done("d@x.com"), None);
        assert_eq!(journal.skipped_lines(), 1);
        journal
            .append(vec![Record::new("d@x.com", Outcome::Revoked)])
            .expect("append");
        drop(journal);
        let other = Journal::open(&path, "https://other", INVALIDATE).expect("other endpoint");
        assert_eq!(other.done("a@x.com"), None);
        drop(other);
        let revoke = RevocationAction::RevokeSignInSessions;
        let other = Journal::open(&path, "https://graph", revoke).expect("other action");
        assert_eq!(other.done("a@x.com"), None);
        drop(other);
        let journal = Journal::open(&path, "https://graph", INVALIDATE).expect("again");
        assert_eq!(journal.done("d@x.com"), Some(Outcome::Revoked));
        assert_eq!(journal.skipped_lines(), 1);
    }

    #[test]
    fn records_name_their_action_and_older_records_are_invalidations() {
        let path = temp_path("j.jsonl");
        std::fs::write(
            &path,
            "{\"user\":\"old@x.com\",\"outcome\":\"revoked\",\"at\":\"2026-01-01T00:00:00Z\",\"endpoint\":\"e\"}\n",
        )
        .expect("older journal");
        let revoke = RevocationAction::RevokeSignInSessions;
        let journal = Journal::open(&path, "e", revoke).expect("open");
        assert_eq!(journal.done("old@x.com"), None);
        journal
            .append(vec![Record::new("new@x.com", Outcome::Revoked)])
            .expect("append");
        drop(journal);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.lines()
                .last()
                .is_some_and(|line| line.contains(r#""action":"revokeSignInSessions""#)),
            "{text}"
        );
        let journal = Journal::open(&path, "e", revoke).expect("reopen");
        assert_eq!(journal.done("new@x.com"), Some(Outcome::Revoked));
        let invalidate = Journal::open(&path, "e", INVALIDATE).expect("invalidate");
        assert_eq!(invalidate.done("old@x.com"), Some(Outcome::Revoked));
        assert_eq!(invalidate.done("new@x.com"), None);
    }

    #[cfg(unix)]
    #[test]
    fn created_owner_only_and_never_through_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp_path("j.jsonl");
        drop(Journal::open(&path, "e", INVALIDATE).expect("open"));
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let link = path.with_file_name("link.jsonl");
        std::os::unix::fs::symlink(&path, &link).expect("link");
        let error = Journal::open(&link, "e", INVALIDATE).expect_err("refused");
        assert_eq!(error.kind, ErrorKind::JournalRefused);
        let folder =
            Journal::open(path.parent().expect("dir"), "e", INVALIDATE).expect_err("refused");
        assert_eq!(folder.kind, ErrorKind::JournalRefused);
    }
}
