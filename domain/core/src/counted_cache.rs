//! A cache that counts its lookups. The engine and the auth service keep
//! their caches' hit and miss counts here; the binary reads them with
//! [`CacheStats`] and publishes them (the domain records no metrics itself).

use moka::sync::Cache;
use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What one cache has served since the process started, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStats {
    /// The cache's name (`ranges`, `metaranges`, `overlays`, `commits`, `auth_keys`,
    /// `auth_users`, `auth_policies`).
    pub cache: &'static str,
    /// Lookups answered from memory.
    pub hits: u64,
    /// Lookups that went to the store.
    pub misses: u64,
    /// Entries held now.
    pub entries: u64,
    /// Bytes held now, for caches bounded in bytes (the tree caches).
    pub bytes: Option<u64>,
}

/// A [`moka`] cache whose [`CountedCache::get`] counts hits and misses.
/// Clones share the entries and the counts.
#[derive(Clone)]
pub(crate) struct CountedCache<K, V> {
    name: &'static str,
    cache: Cache<K, V>,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    /// Whether the cache's weigher counts bytes.
    in_bytes: bool,
}

impl<K, V> CountedCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(name: &'static str, cache: Cache<K, V>) -> Self {
        Self {
            name,
            cache,
            hits: Arc::default(),
            misses: Arc::default(),
            in_bytes: false,
        }
    }

    /// The same, for a cache whose weigher counts bytes.
    pub(crate) fn in_bytes(self) -> Self {
        Self {
            in_bytes: true,
            ..self
        }
    }

    /// The value of `key`, counted as a hit or a miss.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.cache.get(key);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The value of `key` counted as a hit when there is one; a miss is not
    /// counted (the caller counts it in whichever cache it belongs to).
    pub(crate) fn get_if_present<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.cache.get(key);
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Counts a hit served without a lookup (a shortcut to a cached value).
    pub(crate) fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a miss found by [`Self::get_if_present`].
    pub(crate) fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// The value of `key`, uncounted: for scans that read past the cache
    /// (garbage collection), which would skew its hit rate.
    pub(crate) fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.cache.get(key)
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        self.cache.insert(key, value);
    }

    pub(crate) fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.cache.invalidate(key);
    }

    pub(crate) fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// The counts so far and what the cache holds now.
    pub(crate) fn stats(&self) -> CacheStats {
        // Entry and weight counts lag inserts until pending work runs.
        self.cache.run_pending_tasks();
        CacheStats {
            cache: self.name,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.cache.entry_count(),
            bytes: self.in_bytes.then(|| self.cache.weighted_size()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_counted_and_peeks_are_not() {
        let c = CountedCache::new("t", Cache::new(10));
        assert_eq!(c.get(&1), None::<u8>);
        c.insert(1, 7);
        assert_eq!(c.get(&1), Some(7));
        assert_eq!(c.get(&1), Some(7));
        assert_eq!(c.peek(&2), None);
        let copy = c.clone();
        assert_eq!(copy.get(&3), None);
        let s = c.stats();
        assert_eq!((s.cache, s.hits, s.misses, s.entries), ("t", 2, 2, 1));
        assert_eq!(s.bytes, None);
        c.invalidate(&1);
        assert_eq!(c.stats().entries, 0);
    }
}
