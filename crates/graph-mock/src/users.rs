//! The mock's directory: the users a revoke can address, how many times each was revoked, and
//! each user's `signInSessionsValidFromDateTime` as a read shows it. A revocation moves that
//! time to now (second precision, as Graph's) unless the user is set to ignore revocations;
//! with a replication lag, reads keep showing the old time for that long. Lookups are hashed on lower-cased keys because Graph matches both object ids and UPNs
//! case-insensitively, and benchmarks load tens of thousands of users.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A directory user: an object id (GUID) and a userPrincipalName.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    /// Object id, a hyphenated GUID.
    pub id: String,
    /// The UPN, e.g. `a@contoso.com` or `a_b.com#EXT#@contoso.onmicrosoft.com`.
    pub user_principal_name: String,
}

impl User {
    /// A user with this object id and UPN.
    pub fn new(id: impl Into<String>, user_principal_name: impl Into<String>) -> Self {
        User {
            id: id.into(),
            user_principal_name: user_principal_name.into(),
        }
    }

    /// Refuses what Entra could never hold, so that a test typo fails loudly when the user is
    /// added instead of silently answering 404 later.
    pub fn validate(&self) -> Result<(), String> {
        if self.id.len() != 36 || uuid::Uuid::try_parse(&self.id).is_err() {
            return Err(format!("user id '{}' is not a hyphenated GUID", self.id));
        }
        if !self.user_principal_name.contains('@') {
            return Err(format!(
                "userPrincipalName '{}' has no '@'",
                self.user_principal_name
            ));
        }
        Ok(())
    }
}

#[derive(Default)]
pub(crate) struct Directory {
    users: Vec<User>,
    by_id: HashMap<String, usize>,
    by_upn: HashMap<String, usize>,
    /// Keyed by lower-cased id; holds the id as first written, for reporting.
    revocations: HashMap<String, (String, u32)>,
    /// Keyed by lower-cased id: when sessions became valid, and the previous time, which reads
    /// show until the replication lag has passed.
    sessions: HashMap<String, Sessions>,
    behavior: SessionBehavior,
}

#[derive(Clone, Copy)]
struct Sessions {
    valid_from: OffsetDateTime,
    previous: OffsetDateTime,
    visible_at: Instant,
}

/// How revocations show in reads (`PUT /_mock/sessions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionBehavior {
    /// How long reads keep showing the time from before a revocation.
    #[serde(default)]
    pub replication_lag_ms: u64,
    /// Users (ids or UPNs) whose revocation answers success but does not take effect.
    #[serde(default)]
    pub ineffective: Vec<String>,
}

/// `signInSessionsValidFromDateTime` of a user never revoked here.
pub const NEVER_REVOKED: OffsetDateTime = time::macros::datetime!(2024-01-01 0:00 UTC);

fn key(s: &str) -> String {
    s.to_lowercase()
}

impl Directory {
    /// Adds or replaces (same id) users, all or none: a batch with one invalid user or a UPN that
    /// another user already holds changes nothing.
    pub fn upsert(&mut self, users: &[User]) -> Result<usize, String> {
        let mut batch_upns: HashMap<String, String> = HashMap::new();
        for u in users {
            u.validate()?;
            let upn = key(&u.user_principal_name);
            let id = key(&u.id);
            let holder = batch_upns
                .get(&upn)
                .cloned()
                .or_else(|| self.by_upn.get(&upn).map(|&i| key(&self.users[i].id)));
            if let Some(holder) = holder.filter(|h| *h != id) {
                return Err(format!(
                    "userPrincipalName '{}' already belongs to user '{holder}'",
                    u.user_principal_name
                ));
            }
            batch_upns.insert(upn, id);
        }
        for u in users {
            let id = key(&u.id);
            match self.by_id.get(&id).copied() {
                Some(i) => {
                    let old_upn = key(&self.users[i].user_principal_name);
                    self.by_upn.remove(&old_upn);
                    self.users[i] = u.clone();
                    self.by_upn.insert(key(&u.user_principal_name), i);
                }
                None => {
                    let i = self.users.len();
                    self.users.push(u.clone());
                    self.by_id.insert(id, i);
                    self.by_upn.insert(key(&u.user_principal_name), i);
                }
            }
        }
        Ok(self.users.len())
    }

    /// Forgets the users (revocation counts stay: they are what a test asserts on afterwards).
    pub fn clear_users(&mut self) {
        self.users.clear();
        self.by_id.clear();
        self.by_upn.clear();
    }

    pub fn clear_revocations(&mut self) {
        self.revocations.clear();
        self.sessions.clear();
        self.behavior = SessionBehavior::default();
    }

    pub fn set_session_behavior(&mut self, behavior: SessionBehavior) {
        self.behavior = behavior;
    }

    pub fn session_behavior(&self) -> SessionBehavior {
        self.behavior.clone()
    }

    /// `signInSessionsValidFromDateTime` of the user with this id, as a read shows it now.
    pub fn sessions_valid_from(&self, user_id: &str) -> OffsetDateTime {
        match self.sessions.get(&key(user_id)) {
            Some(s) if Instant::now() >= s.visible_at => s.valid_from,
            Some(s) => s.previous,
            None => NEVER_REVOKED,
        }
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn users(&self) -> Vec<User> {
        self.users.clone()
    }

    /// The user whose id or UPN equals `id_or_upn`, case-insensitively.
    pub fn find(&self, id_or_upn: &str) -> Option<&User> {
        let k = key(id_or_upn);
        self.by_id
            .get(&k)
            .or_else(|| self.by_upn.get(&k))
            .and_then(|&i| self.users.get(i))
    }

    /// Counts one revocation of the user with this id.
    pub fn revoke(&mut self, user_id: &str) -> u32 {
        let entry = self
            .revocations
            .entry(key(user_id))
            .or_insert_with(|| (user_id.to_owned(), 0));
        entry.1 = entry.1.saturating_add(1);
        let count = entry.1;
        let ineffective = self.behavior.ineffective.iter().any(|u| {
            key(u) == key(user_id)
                || self
                    .find(u)
                    .is_some_and(|found| key(&found.id) == key(user_id))
        });
        if !ineffective {
            let previous = self.sessions_valid_from(user_id);
            let now = OffsetDateTime::now_utc();
            self.sessions.insert(
                key(user_id),
                Sessions {
                    valid_from: now.replace_nanosecond(0).unwrap_or(now),
                    previous,
                    visible_at: Instant::now()
                        + Duration::from_millis(self.behavior.replication_lag_ms),
                },
            );
        }
        count
    }

    /// Revocations of one user, by id or (while the user is known) UPN.
    pub fn revocations_of(&self, id_or_upn: &str) -> u32 {
        let id = self
            .find(id_or_upn)
            .map_or_else(|| key(id_or_upn), |u| key(&u.id));
        self.revocations.get(&id).map_or(0, |(_, n)| *n)
    }

    pub fn all_revocations(&self) -> BTreeMap<String, u32> {
        self.revocations.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0a1b2c3d-0000-4000-8000-00000000000a";
    const B: &str = "0a1b2c3d-0000-4000-8000-00000000000b";

    #[test]
    fn find_is_case_insensitive_and_upsert_replaces() {
        let mut d = Directory::default();
        assert_eq!(d.upsert(&[User::new(A, "A@x.com")]), Ok(1));
        assert!(d.find(&A.to_uppercase()).is_some());
        assert!(d.find("a@X.COM").is_some());
        assert_eq!(d.upsert(&[User::new(A, "renamed@x.com")]), Ok(1));
        assert!(d.find("a@x.com").is_none());
        assert!(d.find("renamed@x.com").is_some());
    }

    #[test]
    fn rejects_bad_users_atomically() {
        let mut d = Directory::default();
        assert!(
            d.upsert(&[User::new(A, "a@x.com"), User::new("nope", "b@x.com")])
                .is_err()
        );
        assert!(d.users().is_empty());
        assert!(d.upsert(&[User::new(A, "a@x.com")]).is_ok());
        assert!(d.upsert(&[User::new(B, "A@x.com")]).is_err());
        assert!(d.upsert(&[User::new(B, "no-at-sign")]).is_err());
    }

    #[test]
    fn counts_revocations() {
        let mut d = Directory::default();
        assert!(d.upsert(&[User::new(A, "a@x.com")]).is_ok());
        d.revoke(A);
        d.revoke(&A.to_uppercase());
        assert_eq!(d.revocations_of("a@x.com"), 2);
        assert_eq!(d.revocations_of(B), 0);
        assert_eq!(d.all_revocations().get(A), Some(&2));
    }
}
