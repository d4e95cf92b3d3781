//! Bulk revocation: the cmdlet submits every piped user and polls completions, which it
//! writes back in input order on the pipeline thread.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use graph_core::bulk::{BulkConfig, BulkRun};
use graph_core::journal::Journal;
use graph_core::{GraphError, RevocationAction};
use serde::Deserialize;

use crate::boundary::{guard, guard_void};
use crate::buffer::{GraphBuffer, input_json, input_str, require_out};
use crate::request_options::read_options;
use crate::session_exports::{GraphSession, session_ref};
use crate::status::GraphStatus;

/// Opaque bulk run; every operation takes it by shared reference (Ctrl+C cancels from
/// another thread while the pipeline thread polls).
pub struct GraphBulk {
    run: BulkRun,
}

/// What a run does: `{"action":"invalidateAllRefreshTokens"|"revokeSignInSessions",
/// "verify":bool,"journalPath":string|null}` (every field optional).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RunSettings {
    #[serde(default)]
    action: RevocationAction,
    #[serde(default)]
    verify: bool,
    #[serde(default)]
    journal_path: Option<String>,
}

/// Starts a bulk run on a session with per-run options (as for
/// `graph_revoke`) and run settings (JSON `{"action":...,"verify":bool,"journalPath":string|null}`,
/// or empty for a plain run of `invalidateAllRefreshTokens`). The journal, if
/// any, is opened here (refused: `JournalRefused`; unusable: `JournalIo`). On success
/// `*bulk_out` receives the handle and `out` `{"journalDone":n,"journalSkippedLines":n}`.
///
/// # Safety
/// `session` null or live; pointer/length pairs null with length 0 or that many readable
/// bytes; `bulk_out` and `out` null or valid for one write.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn graph_bulk_start(
    session: *const GraphSession,
    options: *const u8,
    options_len: usize,
    proxy_password: *const u8,
    proxy_password_len: usize,
    settings: *const u8,
    settings_len: usize,
    bulk_out: *mut *mut GraphBulk,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            require_out(bulk_out, "bulk_out")?;
            let session = Arc::clone(session_ref(session)?);
            let options = read_options(options, options_len, proxy_password, proxy_password_len)?;
            let settings: RunSettings = if settings_len == 0 {
                RunSettings::default()
            } else {
                input_json(settings, settings_len, "the run settings")?
            };
            let journal = settings
                .journal_path
                .map(|path| {
                    Journal::open(
                        Path::new(&path),
                        &session.environment().graph_endpoint,
                        settings.action,
                    )
                })
                .transpose()?
                .map(Arc::new);
            let answer = serde_json::json!({
                "journalDone": journal.as_ref().map_or(0, |journal| journal.done_count()),
                "journalSkippedLines": journal.as_ref().map_or(0, |journal| journal.skipped_lines()),
            });
            let config = BulkConfig {
                action: settings.action,
                verify: settings.verify,
                journal,
                ..BulkConfig::default()
            };
            let run = BulkRun::start(session, options, config)?;
            bulk_out.write(Box::into_raw(Box::new(GraphBulk { run })));
            Ok(answer)
        })
    }
}

/// Queues one user with its sequence number and extra headers (JSON `[[name,value]]` or
/// empty). Never blocks; an unusable id completes at once with its error.
///
/// # Safety
/// `bulk` null or live; pointer/length pairs as above; `out` null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_bulk_submit(
    bulk: *const GraphBulk,
    seq: u64,
    user_id: *const u8,
    user_id_len: usize,
    headers: *const u8,
    headers_len: usize,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let bulk = bulk_ref(bulk)?;
            let user_id = input_str(user_id, user_id_len, "the user id")?;
            let headers = input_str(headers, headers_len, "the headers")?;
            let headers: Vec<(String, String)> = if headers.trim().is_empty() {
                Vec::new()
            } else {
                serde_json::from_str(headers).map_err(|error| {
                    GraphError::invalid_argument(format!("the headers are not valid: {error}"))
                })?
            };
            bulk.run.submit(seq, user_id, headers);
            Ok(serde_json::json!({}))
        })
    }
}

/// No more items will be submitted.
///
/// # Safety
/// `bulk` null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_bulk_close(bulk: *const GraphBulk) {
    guard_void(|| {
        // SAFETY: null or live, per the contract.
        if let Some(bulk) = unsafe { bulk.as_ref() } {
            bulk.run.close();
        }
    });
}

/// Stops sending at once (Ctrl+C); safe from any thread.
///
/// # Safety
/// `bulk` null or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_bulk_cancel(bulk: *const GraphBulk) {
    guard_void(|| {
        // SAFETY: null or live, per the contract.
        if let Some(bulk) = unsafe { bulk.as_ref() } {
            bulk.run.cancel();
        }
    });
}

/// Waits up to `max_wait_ms` for completions and writes a `Poll` as JSON:
/// `{"completions":[{"seq","outcome"|"error"}],"progress":{...},"finished","cancelled"}`.
///
/// # Safety
/// `bulk` null or live; `out` null or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_bulk_poll(
    bulk: *const GraphBulk,
    max_wait_ms: u32,
    max_items: u32,
    out: *mut GraphBuffer,
) -> GraphStatus {
    // SAFETY: forwarded contract.
    unsafe {
        guard(out, || {
            let bulk = bulk_ref(bulk)?;
            bulk.run.poll(
                Duration::from_millis(u64::from(max_wait_ms)),
                max_items as usize,
            )
        })
    }
}

/// Frees a bulk run; sending stops if it had not finished. Null is harmless.
///
/// # Safety
/// `bulk` null or a handle from [`graph_bulk_start`], not freed before, no call using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn graph_bulk_free(bulk: *mut GraphBulk) {
    guard_void(|| {
        if !bulk.is_null() {
            // SAFETY: created by `Box::into_raw` in `graph_bulk_start`, freed once.
            drop(unsafe { Box::from_raw(bulk) });
        }
    });
}

/// # Safety
/// `bulk` null or live.
unsafe fn bulk_ref<'a>(bulk: *const GraphBulk) -> Result<&'a GraphBulk, GraphError> {
    // SAFETY: null or live, per the contract.
    unsafe { bulk.as_ref() }.ok_or_else(|| GraphError::invalid_argument("the bulk handle is null"))
}
