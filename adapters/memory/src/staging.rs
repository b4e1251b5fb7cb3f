use crate::lock;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;
use tarn_model::{ObjectPath, StagedValue, StagingToken};
use tarn_ports::{after_prefix, folder_of, PortResult, StagingEntry, StagingStore};

/// A `StagingStore` in memory: one sorted map per token.
#[derive(Default)]
pub struct MemoryStagingStore {
    tokens: Mutex<HashMap<StagingToken, BTreeMap<String, StagedValue>>>,
}

impl MemoryStagingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl StagingStore for MemoryStagingStore {
    async fn put(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
        value: &StagedValue,
    ) -> PortResult<()> {
        lock(&self.tokens)?
            .entry(token.clone())
            .or_default()
            .insert(path.as_str().to_owned(), value.clone());
        Ok(())
    }

    async fn put_many(&self, token: &StagingToken, entries: &[StagingEntry]) -> PortResult<()> {
        let mut tokens = lock(&self.tokens)?;
        let map = tokens.entry(token.clone()).or_default();
        for (path, value) in entries {
            map.insert(path.as_str().to_owned(), value.clone());
        }
        Ok(())
    }

    async fn get(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
    ) -> PortResult<Option<StagedValue>> {
        Ok(lock(&self.tokens)?
            .get(token)
            .and_then(|m| m.get(path.as_str()).cloned()))
    }

    async fn delete(&self, token: &StagingToken, path: &ObjectPath) -> PortResult<()> {
        if let Some(m) = lock(&self.tokens)?.get_mut(token) {
            m.remove(path.as_str());
        }
        Ok(())
    }

    async fn scan(
        &self,
        token: &StagingToken,
        prefix: &str,
        after: Option<&ObjectPath>,
        limit: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        let tokens = lock(&self.tokens)?;
        let Some(map) = tokens.get(token) else {
            return Ok(Vec::new());
        };
        let start = match after {
            Some(a) if a.as_str() > prefix => a.as_str(),
            _ => prefix,
        };
        let mut out = Vec::new();
        for (path, value) in map.range(start.to_owned()..) {
            if !path.starts_with(prefix) || out.len() >= limit {
                break;
            }
            if after.is_some_and(|a| path.as_str() <= a.as_str()) {
                continue;
            }
            out.push((ObjectPath::new(path.clone())?, value.clone()));
        }
        Ok(out)
    }

    async fn scan_folders(
        &self,
        token: &StagingToken,
        prefix: &str,
        delimiter: &str,
        after: Option<&ObjectPath>,
        limit: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        let tokens = lock(&self.tokens)?;
        let Some(map) = tokens.get(token) else {
            return Ok(Vec::new());
        };
        // One range seek per folder: the entries inside are never visited.
        let mut from = match after {
            Some(a) if a.as_str() >= prefix => Bound::Excluded(a.as_str().to_owned()),
            _ => Bound::Included(prefix.to_owned()),
        };
        let mut out = Vec::new();
        while out.len() < limit {
            let bounds = (from.as_ref().map(String::as_str), Bound::Unbounded);
            let Some((path, value)) = map.range::<str, _>(bounds).next() else {
                break;
            };
            if !path.starts_with(prefix) {
                break;
            }
            out.push((ObjectPath::new(path.clone())?, value.clone()));
            from = match folder_of(path, prefix, delimiter) {
                Some(folder) => match after_prefix(folder) {
                    Some(next) => Bound::Included(next),
                    None => break,
                },
                None => Bound::Excluded(path.clone()),
            };
        }
        Ok(out)
    }

    async fn drop_prefix(&self, token: &StagingToken, prefix: &str) -> PortResult<()> {
        let mut tokens = lock(&self.tokens)?;
        if prefix.is_empty() {
            tokens.remove(token);
        } else if let Some(m) = tokens.get_mut(token) {
            m.retain(|path, _| !path.starts_with(prefix));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarn_ports::testkit::StagingFixture;

    async fn fixture() -> StagingFixture {
        StagingFixture {
            store: Arc::new(MemoryStagingStore::new()),
            // Kept apart: this store reads no branches.
            refs: Arc::new(crate::MemoryRefStore::new()),
            guard: Box::new(()),
        }
    }

    tarn_ports::staging_store_conformance!(fixture);
}
