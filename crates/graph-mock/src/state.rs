//! Everything the handlers share: the signing key, the directory, the fault queue, the request
//! journal, the latency setting, the throttling buckets, the chaos generator and the sign-in side. Each part has its own short-held lock so that a slow client
//! or an injected delay never serialises other requests (delays are awaited outside any lock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::chaos::Chaos;
use crate::config::MockConfig;
use crate::entra::EntraState;
use crate::faults::FaultQueue;
use crate::recording::Recorder;
use crate::throttle::{ThrottleConfig, Throttler};
use crate::token::{MintedToken, Signer, TokenRequest};
use crate::users::Directory;

pub(crate) struct AppState {
    pub signer: Signer,
    pub directory: Mutex<Directory>,
    pub faults: Mutex<FaultQueue>,
    pub recorder: Mutex<Recorder>,
    pub throttler: Mutex<Throttler>,
    pub chaos: Mutex<Chaos>,
    pub entra: EntraState,
    latency_ms: AtomicU64,
}

impl AppState {
    pub fn new(config: &MockConfig) -> anyhow::Result<Self> {
        let mut directory = Directory::default();
        directory
            .upsert(&config.users)
            .map_err(|e| anyhow::anyhow!("invalid configured users: {e}"))?;
        config
            .throttling
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid throttling config: {e}"))?;
        let mut chaos = Chaos::default();
        if let Some(c) = &config.chaos {
            c.validate()
                .map_err(|e| anyhow::anyhow!("invalid chaos config: {e}"))?;
            chaos.configure(Some(c.clone()));
        }
        Ok(AppState {
            signer: Signer::random()?,
            directory: Mutex::new(directory),
            faults: Mutex::new(FaultQueue::default()),
            recorder: Mutex::new(Recorder::new()),
            throttler: Mutex::new(Throttler::new(config.throttling.clone())),
            chaos: Mutex::new(chaos),
            entra: EntraState::default(),
            latency_ms: AtomicU64::new(config.latency_ms),
        })
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }

    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Mints a token; a delegated token for a known UPN gets that user's object id as `oid`, so
    /// `/me` resolves either way.
    pub fn mint(&self, req: &TokenRequest) -> MintedToken {
        let oid = req.oid.clone().unwrap_or_else(|| {
            req.upn
                .as_deref()
                .filter(|_| req.scp.is_some())
                .and_then(|upn| self.directory.lock().find(upn).map(|u| u.id.clone()))
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
        });
        self.signer
            .mint(req, oid, OffsetDateTime::now_utc().unix_timestamp())
    }

    /// Back to an empty server (no users, faults, journal, revocations, latency, throttling,
    /// chaos, apps, tenants, refresh tokens or managed identities); the signing key stays so tokens already handed out keep working.
    pub fn reset(&self) {
        {
            let mut d = self.directory.lock();
            d.clear_users();
            d.clear_revocations();
        }
        self.faults.lock().clear();
        self.recorder.lock().clear();
        self.latency_ms.store(0, Ordering::Relaxed);
        self.throttler.lock().configure(ThrottleConfig::default());
        self.chaos.lock().configure(None);
        self.entra.reset();
    }
}
