//! A PowerShell runspace with a thread of its own. The thread opens the runspace and runs every
//! invocation on itself (the bridge uses PowerShell's `UseCurrentThread`), so PowerShell only
//! ever sees that one thread and the thread's signal stack is set up once. Callers on any
//! thread send requests over a channel; they are run one at a time in arrival order, and each
//! record comes back to the caller's thread as soon as PowerShell writes it.
//!
//! [`Runspace::stop`] (or a [`Stopper`] on another thread) stops what is running; dropping the
//! runspace closes it and joins its thread. Not handled yet: running two invocations of one
//! runspace at once (open two runspaces), and nested pipelines from inside a record callback.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::bridge::{Entrypoints, MessageKind};
use crate::records::{self, Completion, Invocation, Record};
use crate::{HostError, Request};

/// Stack of a runspace's thread: PowerShell recurses deeply (parsing, binding, nested scripts),
/// and pwsh gives its own pipeline threads 10 MB.
const STACK_SIZE: usize = 16 * 1024 * 1024;

/// How often a timed-out invocation is asked again to stop (a stop that lands just before
/// PowerShell starts the pipeline is lost).
const STOP_RETRY: Duration = Duration::from_millis(100);

struct Job {
    /// Numbers jobs so a timeout stops its own invocation, never a later one.
    number: u64,
    request: Vec<u8>,
    events: mpsc::Sender<Event>,
}

enum Event {
    Record(Box<Record>),
    Done(Result<Completion, HostError>),
}

/// An open PowerShell runspace. `Send + Sync`: share it by reference between threads.
pub struct Runspace {
    id: i64,
    entry: Entrypoints,
    /// The number of the job the runspace's thread is running (0: none).
    running: Arc<AtomicU64>,
    next_job: AtomicU64,
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Runspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runspace").field("id", &self.id).finish()
    }
}

/// Stops what a runspace runs, from any thread (a Ctrl+C handler, a watchdog).
#[derive(Debug, Clone, Copy)]
pub struct Stopper {
    id: i64,
    entry: Entrypoints,
}

impl Stopper {
    /// Stops the running invocation, if any; it ends with `stopped` set.
    pub fn stop(&self) {
        self.entry.stop_runspace(self.id);
    }
}

impl Runspace {
    pub(crate) fn open(entry: Entrypoints) -> Result<Self, HostError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened_sender, opened) = mpsc::sync_channel::<Result<i64, HostError>>(1);
        let running = Arc::new(AtomicU64::new(0));
        let running_on_worker = Arc::clone(&running);
        let worker = thread::Builder::new()
            .name("pwsh-runspace".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let id = match entry.open_runspace() {
                    Ok(id) => id,
                    Err(error) => {
                        let _ = opened_sender.send(Err(error));
                        return;
                    }
                };
                let _ = opened_sender.send(Ok(id));
                for job in queue {
                    running_on_worker.store(job.number, Ordering::SeqCst);
                    run(entry, id, job);
                    running_on_worker.store(0, Ordering::SeqCst);
                }
                entry.close_runspace(id);
            })
            .map_err(|error| {
                HostError::Internal(format!(
                    "no thread could be started for a runspace ({error})"
                ))
            })?;
        let opened = opened.recv().unwrap_or(Err(HostError::RunspaceClosed));
        match opened {
            Ok(id) => Ok(Runspace {
                id,
                entry,
                running,
                next_job: AtomicU64::new(1),
                jobs: Some(jobs),
                worker: Some(worker),
            }),
            Err(error) => {
                let _ = worker.join();
                Err(error)
            }
        }
    }

    /// Runs a request and gathers everything it wrote.
    pub fn invoke(&self, request: &Request) -> Result<Invocation, HostError> {
        let mut invocation = Invocation::default();
        let completion = self.invoke_with(request, |record| invocation.push(record))?;
        invocation.completion = completion;
        Ok(invocation)
    }

    /// Runs a script text (see [`Request::script`]) and gathers everything it wrote.
    pub fn run_script(&self, script: &str) -> Result<Invocation, HostError> {
        self.invoke(&Request::script(script))
    }

    /// Runs a request, handing each record to `on_record` on this thread as soon as PowerShell
    /// writes it. A script that throws is not an `Err`: its error arrives as a record marked
    /// terminating. `Err` means the host failed (a bad request, a closed runspace).
    pub fn invoke_with(
        &self,
        request: &Request,
        mut on_record: impl FnMut(Record),
    ) -> Result<Completion, HostError> {
        let (events, received) = mpsc::channel();
        let number = self.next_job.fetch_add(1, Ordering::SeqCst);
        self.jobs
            .as_ref()
            .ok_or(HostError::RunspaceClosed)?
            .send(Job {
                number,
                request: request.to_json(),
                events,
            })
            .map_err(|_| HostError::RunspaceClosed)?;
        // The timeout counts from now, queueing included; once it has passed, the invocation
        // is asked to stop until it ends (only this one: other callers' jobs are left alone).
        let deadline = request
            .timeout_value()
            .map(|timeout| Instant::now() + timeout);
        let mut timed_out = false;
        loop {
            let wait = match deadline {
                None => None,
                Some(_) if timed_out => Some(STOP_RETRY),
                Some(deadline) => Some(deadline.saturating_duration_since(Instant::now())),
            };
            let event = match wait {
                None => received.recv().map_err(|_| HostError::RunspaceClosed)?,
                Some(wait) => match received.recv_timeout(wait) {
                    Ok(event) => event,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        timed_out = true;
                        if self.running.load(Ordering::SeqCst) == number {
                            self.stop();
                        }
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(HostError::RunspaceClosed);
                    }
                },
            };
            match event {
                Event::Record(record) => on_record(*record),
                Event::Done(completion) => {
                    return completion.map(|mut completion| {
                        completion.timed_out = timed_out;
                        completion
                    });
                }
            }
        }
    }

    /// Imports a module: a path (its `.psd1`, `.psm1`, `.dll` or folder) or a name from
    /// `$env:PSModulePath`. A path that does not exist, or a module that fails to import, is
    /// an error saying so.
    pub fn import_module(&self, module: &Path) -> Result<(), HostError> {
        let text = module.to_string_lossy();
        let looks_like_path = module.components().count() > 1
            || module
                .extension()
                .is_some_and(|ext| ["psd1", "psm1", "dll"].iter().any(|known| ext == *known));
        let name = if looks_like_path {
            if !module.exists() {
                return Err(HostError::ModuleNotFound {
                    path: module.to_path_buf(),
                });
            }
            // PowerShell resolves relative paths from its own location: make it absolute here.
            std::path::absolute(module)
                .unwrap_or_else(|_| PathBuf::from(module))
                .to_string_lossy()
                .into_owned()
        } else {
            text.into_owned()
        };
        let imported = self.invoke(
            &Request::command("Import-Module")
                .parameter("Name", name.clone())
                .parameter("ErrorAction", "Stop"),
        )?;
        match imported.first_error() {
            None => Ok(()),
            Some(error) => Err(HostError::ModuleImport {
                module: name,
                message: error.message.clone(),
            }),
        }
    }

    /// Stops the running invocation, if any.
    pub fn stop(&self) {
        self.stopper().stop();
    }

    /// A handle that stops this runspace's invocations from another thread.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            id: self.id,
            entry: self.entry,
        }
    }
}

impl Drop for Runspace {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop; it then closes the runspace.
        drop(self.jobs.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Runs one job on the runspace's thread.
fn run(entry: Entrypoints, id: i64, job: Job) {
    let events = job.events;
    let mut on_message = |kind: MessageKind, bytes: &[u8]| {
        let record = match kind {
            MessageKind::Failure => records::conversion_failure(bytes),
            _ => records::parse_record(bytes),
        };
        let _ = events.send(Event::Record(Box::new(record)));
    };
    let done = entry
        .invoke(id, &job.request, &mut on_message)
        .and_then(|answer| {
            serde_json::from_slice::<Completion>(&answer).map_err(|error| {
                HostError::Internal(format!(
                    "the bridge's completion is not valid JSON ({error})"
                ))
            })
        });
    let _ = events.send(Event::Done(done));
}
