//! Authentication and authorization: who a caller is (access keys, passwords,
//! sessions are the driver's) and whether their policies allow a request.
//!
//! Lookups that every request makes (an access key's owner and secret, a
//! user, a user's effective policies) are cached for a short TTL. Every change
//! made through this service clears the caches of this instance at once;
//! other instances see it when their entries expire.

mod admin;
pub mod crypt;
mod setup;

pub use admin::NewCredentials;

use crate::counted_cache::{CacheStats, CountedCache};
use crate::error::{Error, Result};
use crypt::{same_secret, SecretBox};
use moka::sync::Cache;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tarn_model::auth::{authorize, AccessKeyId, Decision, Permission, Policy, User, UserId};
use tarn_model::Timestamp;
use tarn_ports::{AuthStore, Clock, ErrorKind};

/// Tuning of the auth service.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a looked-up key, user or policy set may be reused; zero
    /// disables caching (lakeFS's `auth.cache.ttl`, 20 s).
    pub cache_ttl: Duration,
    /// Entries per cache.
    pub cache_size: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(20),
            cache_size: 1024,
        }
    }
}

/// The owner and plaintext secret of an access key.
#[derive(Clone)]
struct KeyOwner {
    user: UserId,
    secret: String,
}

struct Caches {
    keys: CountedCache<String, Arc<KeyOwner>>,
    users: CountedCache<String, Arc<User>>,
    policies: CountedCache<String, Arc<Vec<Policy>>>,
    /// Bumped by every change, so that a lookup racing a change never
    /// caches what it read before the change.
    generation: AtomicU64,
}

impl Caches {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches `value`, read from the store after `seen` was the generation,
    /// unless a change has happened since (then it may be stale).
    fn put<V: Clone + Send + Sync + 'static>(
        &self,
        cache: &CountedCache<String, V>,
        seen: u64,
        key: &str,
        value: V,
    ) {
        cache.insert(key.to_owned(), value);
        if self.generation() != seen {
            cache.invalidate(key);
        }
    }
}

fn cache<V: Clone + Send + Sync + 'static>(
    name: &'static str,
    s: &AuthSettings,
) -> CountedCache<String, V> {
    let cache = Cache::builder()
        .max_capacity(s.cache_size)
        .time_to_live(s.cache_ttl)
        .build();
    CountedCache::new(name, cache)
}

impl Caches {
    fn new(s: &AuthSettings) -> Option<Self> {
        if s.cache_ttl.is_zero() {
            return None;
        }
        Some(Self {
            keys: cache("auth_keys", s),
            users: cache("auth_users", s),
            policies: cache("auth_policies", s),
            generation: AtomicU64::new(0),
        })
    }
}

/// The auth use cases over an [`AuthStore`].
pub struct Auth {
    store: Arc<dyn AuthStore>,
    clock: Arc<dyn Clock>,
    secrets: SecretBox,
    caches: Option<Caches>,
    password_checks: Arc<AtomicUsize>,
}

/// Password checks running at once, at most.
pub const MAX_PASSWORD_CHECKS: usize = 4;

/// One of the [`MAX_PASSWORD_CHECKS`] slots, given back when dropped. The
/// hashing thread owns it, so the slot is held exactly as long as a hash
/// runs: a login dropped while it waits (its client hung up) neither keeps
/// the slot nor frees it while the thread still hashes.
struct PasswordCheckSlot(Arc<AtomicUsize>);

impl PasswordCheckSlot {
    /// A free slot, or `None` when every slot is taken.
    fn take(checks: &Arc<AtomicUsize>) -> Option<Self> {
        if checks.fetch_add(1, Ordering::SeqCst) >= MAX_PASSWORD_CHECKS {
            checks.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self(checks.clone()))
    }
}

impl Drop for PasswordCheckSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether `name` has the shape of an access key id (`AKIA` and upper-case
/// letters or digits, as lakeFS and AWS make them) rather than of a user.
pub fn looks_like_access_key(name: &str) -> bool {
    (16..=128).contains(&name.len())
        && name.starts_with("AKIA")
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A hash to check passwords against when the user has none.
fn decoy_hash() -> Option<String> {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| crypt::hash_password("no user has this password").ok())
        .clone()
}

impl Auth {
    /// Lookups and contents of the credential, user and policy caches
    /// (none when caching is off).
    pub fn cache_stats(&self) -> Vec<CacheStats> {
        self.caches.as_ref().map_or_else(Vec::new, |c| {
            vec![c.keys.stats(), c.users.stats(), c.policies.stats()]
        })
    }

    /// The current time, from the injected clock (token lifetimes and
    /// signature dates are checked against it).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The service; secrets are sealed with a key derived from `secret_key`.
    pub fn new(
        store: Arc<dyn AuthStore>,
        clock: Arc<dyn Clock>,
        secret_key: &str,
        settings: &AuthSettings,
    ) -> Result<Self> {
        if secret_key.is_empty() {
            return Err(Error::invalid(
                "auth.encrypt.secret_key",
                "must be set: it encrypts secret access keys at rest and signs login tokens",
            ));
        }
        let secrets = SecretBox::from_secret_key(secret_key)
            .map_err(|e| Error::invalid("auth.encrypt.secret_key", e))?;
        Ok(Self {
            store,
            clock,
            secrets,
            caches: Caches::new(settings),
            password_checks: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Forgets every cached lookup (after any change).
    fn invalidate(&self) {
        if let Some(c) = &self.caches {
            c.generation.fetch_add(1, Ordering::SeqCst);
            c.keys.invalidate_all();
            c.users.invalidate_all();
            c.policies.invalidate_all();
        }
    }

    async fn key_owner(&self, access_key_id: &str) -> Result<Option<Arc<KeyOwner>>> {
        if let Some(hit) = self.caches.as_ref().and_then(|c| c.keys.get(access_key_id)) {
            return Ok(Some(hit));
        }
        let seen = self.caches.as_ref().map_or(0, Caches::generation);
        let Ok(id) = AccessKeyId::new(access_key_id) else {
            return Ok(None);
        };
        let credential = match self.store.get_credential(&id).await {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let secret = self
            .secrets
            .open(&credential.sealed_secret, access_key_id)
            .map_err(|e| {
                tracing::error!(access_key_id, error = %e, "cannot open a stored secret");
                Error::Internal(tarn_ports::PortError::internal(e.to_string()))
            })?;
        let owner = Arc::new(KeyOwner {
            user: credential.user,
            secret,
        });
        if let Some(c) = &self.caches {
            c.put(&c.keys, seen, access_key_id, owner.clone());
        }
        Ok(Some(owner))
    }

    /// The user whose access key pair this is, if it is one.
    pub async fn authenticate_key(
        &self,
        access_key_id: &str,
        secret: &str,
    ) -> Result<Option<UserId>> {
        Ok(self
            .key_owner(access_key_id)
            .await?
            .filter(|o| same_secret(&o.secret, secret))
            .map(|o| o.user.clone()))
    }

    /// The owner and secret of an access key, to verify a request signature.
    pub async fn secret_of(&self, access_key_id: &str) -> Result<Option<(UserId, String)>> {
        Ok(self
            .key_owner(access_key_id)
            .await?
            .map(|o| (o.user.clone(), o.secret.clone())))
    }

    /// The user named `username` if its password is `password`.
    ///
    /// Hashing is deliberately slow, so it runs on a thread of its own (not
    /// on the caller's async worker), at most [`MAX_PASSWORD_CHECKS`] at a
    /// time (more answer [`Error::Unavailable`] at once); a user without a
    /// password, or no such user, costs the same as a wrong password, so
    /// timing tells nothing about who exists — except for names shaped like
    /// access key ids ([`looks_like_access_key`]), which are refused at once
    /// when no such user exists (an unknown key must not cost a hash). A caller that drops the
    /// returned future mid-check leaves the hash to finish on its thread,
    /// which then gives the slot back.
    pub async fn authenticate_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<UserId>> {
        let user = self.active_user(username).await?;
        // A login that names an access key (a wrong or revoked one) is no
        // password login: refused without a hash, so junk keys cost nothing.
        if user.is_none() && looks_like_access_key(username) {
            return Ok(None);
        }
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let known = hash.is_some();
        let hash = match hash {
            Some(h) => h,
            None => decoy_hash()
                .ok_or_else(|| Error::Internal(tarn_ports::PortError::internal("cannot hash")))?,
        };
        let Some(slot) = PasswordCheckSlot::take(&self.password_checks) else {
            return Err(Error::Unavailable(tarn_ports::PortError::new(
                ErrorKind::Unavailable,
                "too many password logins at once",
            )));
        };
        let (tx, rx) = futures::channel::oneshot::channel();
        let password = password.to_owned();
        std::thread::Builder::new()
            .name("password-check".to_owned())
            .spawn(move || {
                let ok = crypt::verify_password(&password, &hash);
                // Free before answering: whoever gets the answer finds the slot free.
                drop(slot);
                let _ = tx.send(ok);
            })
            .map_err(|e| {
                Error::Unavailable(tarn_ports::PortError::new(
                    ErrorKind::Unavailable,
                    format!("cannot start a password check: {e}"),
                ))
            })?;
        let ok = rx.await.unwrap_or(false);
        Ok(user.filter(|_| ok && known).map(|u| u.id.clone()))
    }

    /// The user `id`, if it exists (a login token's subject must).
    pub async fn active_user(&self, id: &str) -> Result<Option<Arc<User>>> {
        if let Some(hit) = self.caches.as_ref().and_then(|c| c.users.get(id)) {
            return Ok(Some(hit));
        }
        let seen = self.caches.as_ref().map_or(0, Caches::generation);
        let Ok(uid) = UserId::new(id) else {
            return Ok(None);
        };
        let user = match self.store.get_user(&uid).await {
            Ok(u) => Arc::new(u),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if let Some(c) = &self.caches {
            c.put(&c.users, seen, id, user.clone());
        }
        Ok(Some(user))
    }

    /// The user's own and group policies.
    pub async fn policies_of(&self, user: &UserId) -> Result<Arc<Vec<Policy>>> {
        if let Some(hit) = self
            .caches
            .as_ref()
            .and_then(|c| c.policies.get(user.as_str()))
        {
            return Ok(hit);
        }
        let seen = self.caches.as_ref().map_or(0, Caches::generation);
        let policies = match self.store.effective_policies(user).await {
            Ok(p) => Arc::new(p),
            // A user deleted since it authenticated holds nothing.
            Err(e) if e.kind() == ErrorKind::NotFound => Arc::new(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if let Some(c) = &self.caches {
            c.put(&c.policies, seen, user.as_str(), policies.clone());
        }
        Ok(policies)
    }

    /// Whether `user` may do everything in `required`.
    pub async fn authorize(&self, user: &UserId, required: &[Permission]) -> Result<Decision> {
        let policies = self.policies_of(user).await?;
        Ok(authorize(&policies, user, required))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
