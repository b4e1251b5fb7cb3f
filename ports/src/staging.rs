use crate::PortResult;
use async_trait::async_trait;
use tarn_model::{ObjectPath, StagedValue, StagingToken};

/// One staged path.
pub type StagingEntry = (ObjectPath, StagedValue);

/// Uncommitted changes, keyed by (staging token, path).
///
/// Contract, for every adapter:
/// - A token needs no creation: an unknown token is simply empty.
/// - `put` replaces the value of a path (an entry or a tombstone); a reader
///   that starts after `put` returned sees it.
/// - `scan` returns paths in byte order that start with `prefix` and sort
///   strictly after `after`, at most `limit` of them (fewer only at the end),
///   with tombstones included, so that paging with the last path returned
///   visits every entry exactly once.
/// - `delete` of an absent path, and `drop_token` of an empty token, are `Ok`.
/// - Tokens are independent: nothing done to one is visible in another.
#[async_trait]
pub trait StagingStore: Send + Sync + 'static {
    /// Stages `value` for `path` under `token`.
    async fn put(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
        value: &StagedValue,
    ) -> PortResult<()>;

    /// Stages many values at once; same effect as `put` for each, in order.
    async fn put_many(&self, token: &StagingToken, entries: &[StagingEntry]) -> PortResult<()> {
        for (path, value) in entries {
            self.put(token, path, value).await?;
        }
        Ok(())
    }

    /// The staged value of `path`, if any.
    async fn get(&self, token: &StagingToken, path: &ObjectPath)
        -> PortResult<Option<StagedValue>>;

    /// Removes whatever is staged for `path` (an unstaged path stays unstaged).
    async fn delete(&self, token: &StagingToken, path: &ObjectPath) -> PortResult<()>;

    /// Sorted entries under `prefix` after `after`.
    async fn scan(
        &self,
        token: &StagingToken,
        prefix: &str,
        after: Option<&ObjectPath>,
        limit: usize,
    ) -> PortResult<Vec<StagingEntry>>;

    /// Removes every entry under `prefix` (`""` for all).
    async fn drop_prefix(&self, token: &StagingToken, prefix: &str) -> PortResult<()>;

    /// Removes every entry of the token.
    async fn drop_token(&self, token: &StagingToken) -> PortResult<()> {
        self.drop_prefix(token, "").await
    }
}
