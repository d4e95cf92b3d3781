//! The process's one tokio runtime, and the bridge from blocking callers into it.
//!
//! PowerShell calls in on its pipeline thread and waits; the work runs on the runtime's
//! workers. Every wait races the caller's [`CancellationToken`] so Ctrl+C returns at once.

use std::future::Future;

use once_cell::sync::Lazy;
use tokio_util::sync::CancellationToken;

use crate::error::{ErrorKind, GraphError};

static RUNTIME: Lazy<Result<tokio::runtime::Runtime, String>> = Lazy::new(|| {
    // reqwest is built without a default crypto provider so the choice is made here,
    // once; a second install (another crate got there first) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("graph-core")
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
});

/// The shared runtime, or why it could not start (e.g. the OS refused threads).
pub fn runtime() -> Result<&'static tokio::runtime::Runtime, GraphError> {
    RUNTIME.as_ref().map_err(|why| {
        GraphError::new(
            ErrorKind::Internal,
            format!("the module's async runtime could not start: {why}"),
        )
    })
}

/// Runs `work` on the shared runtime and waits for it, unless `cancel` fires first.
pub fn block_on_cancellable<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, GraphError>>,
) -> Result<T, GraphError> {
    runtime()?.block_on(async {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(GraphError::cancelled()),
            result = work => result,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn cancellation_interrupts_a_long_wait() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            trigger.cancel();
        });
        let started = Instant::now();
        let result = block_on_cancellable(&cancel, async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        });
        assert_eq!(result.expect_err("cancelled").kind, ErrorKind::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn completed_work_returns_its_value() {
        let value = block_on_cancellable(&CancellationToken::new(), async { Ok(7) });
        assert_eq!(value.expect("value"), 7);
    }
}
