use crate::PortResult;
use async_trait::async_trait;
use tarn_model::{Branch, BranchName, ObjectPath, RepositoryId, StagedValue, StagingToken};

/// The most entries a [`StagingStore::put_many`] stages all or nothing.
pub const PUT_MANY_ATOMIC: usize = 4096;

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
/// - `scan_folders` returns the first entry of each of up to `limit`
///   successive folders: see its documentation, and [`folder_of`] for what a
///   folder is.
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

    /// Stages `value` for `path` under `token`, then reads branch `branch`
    /// of `repo`, and returns it: what `put` followed by
    /// [`RefStore::get_branch`](crate::RefStore::get_branch) returns, for
    /// stores that keep the branches too and can do both at less cost (the
    /// SQL stores read each branch once for the writes that share a
    /// transaction). The read starts after the value is visible to every
    /// reader, so a change of the branch that it does not show is made after
    /// the value was staged: a commit that seals `token` later sees it. That
    /// is what makes a write safe against a concurrent commit (the caller
    /// writes again under the new token when the token changed).
    ///
    /// - `Ok(None)`: the store keeps no branches; it staged the value only,
    ///   and the caller reads the branch itself (the default).
    /// - `NotFound` when the branch (or its repository) is missing; the
    ///   value was staged all the same, as with `put` then `get_branch`.
    async fn put_and_read_branch(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
        value: &StagedValue,
        (repo, branch): (&RepositoryId, &BranchName),
    ) -> PortResult<Option<Branch>> {
        let _ = (repo, branch);
        self.put(token, path, value).await.map(|()| None)
    }

    /// Stages many values at once; same effect as `put` for each, in order.
    /// A call of at most [`PUT_MANY_ATOMIC`] entries is all or nothing:
    /// when it fails, none of them is staged (adapters that override this
    /// MUST keep that; the default, a `put` each, is for stores that have
    /// no transactions and is not).
    async fn put_many(&self, token: &StagingToken, entries: &[StagingEntry]) -> PortResult<()> {
        for (path, value) in entries {
            self.put(token, path, value).await?;
        }
        Ok(())
    }

    /// Stages `entries` under `token` (at most [`PUT_MANY_ATOMIC`], all or
    /// nothing, as `put_many`) only while `token` is the staging token of
    /// branch `branch` of `repo`, holding off any change of the branch until
    /// they are visible to every reader: a commit that seals `token` then
    /// sees all of them, and one that sealed it before sees none (nothing
    /// is staged and the branch comes back as [`Guarded::Moved`]). That
    /// keeps a commit from taking part of a batch.
    ///
    /// The default, for stores that keep no branches, stages the entries
    /// with `put_many` and answers [`Guarded::Unguarded`]: the caller reads
    /// the branch after, as for `put`. `NotFound` when the branch (or its
    /// repository) is missing, nothing staged; `InvalidInput` for more than
    /// [`PUT_MANY_ATOMIC`] entries.
    async fn put_many_on_branch(
        &self,
        token: &StagingToken,
        entries: &[StagingEntry],
        (repo, branch): (&RepositoryId, &BranchName),
    ) -> PortResult<Guarded> {
        let _ = (repo, branch);
        self.put_many(token, entries).await?;
        Ok(Guarded::Unguarded)
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

    /// The first entry of each of up to `limit` successive folders under
    /// `prefix`, in one call: what a delimited listing needs to skip a folder
    /// without reading it.
    ///
    /// The entries (tombstones included, as in `scan`) are those under
    /// `prefix`, in byte order, such that:
    /// - the first is the first entry strictly after `after` (the first
    ///   `scan` would return, wherever it is in its folder);
    /// - each next one is the first entry that sorts after every path of the
    ///   previous entry's folder ([`folder_of`]`(path, prefix, delimiter)`),
    ///   or, for an entry with no `delimiter` after `prefix` (a folder of its
    ///   own), the next entry;
    /// - there are `limit` of them, fewer only when no entry follows the last
    ///   one's folder.
    ///
    /// Byte order is code point order (UTF-8), so a folder's paths sort
    /// together; the delimiter is any non-empty string, non-ASCII and several
    /// characters long included. An empty `delimiter` divides nothing: every
    /// entry is a folder of its own and the result is `scan`'s.
    async fn scan_folders(
        &self,
        token: &StagingToken,
        prefix: &str,
        delimiter: &str,
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

/// What [`StagingStore::put_many_on_branch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guarded {
    /// Staged while the token was the branch's: no commit takes part of it.
    Staged,
    /// Nothing staged: the branch's staging token is no longer the one
    /// given; this is the branch now.
    Moved(Branch),
    /// Staged without looking at the branch (a store that keeps none).
    Unguarded,
}

/// The folder of `path` in a listing of `prefix` delimited by `delimiter`:
/// `path` up to and including the first `delimiter` after `prefix`, or
/// `None` when `path` does not start with `prefix`, `delimiter` is empty or
/// does not occur after `prefix` (then `path` is a folder of its own).
///
/// A delimited listing shows each folder once, as a common prefix.
pub fn folder_of<'a>(path: &'a str, prefix: &str, delimiter: &str) -> Option<&'a str> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = path.strip_prefix(prefix)?;
    let end = prefix.len() + rest.find(delimiter)? + delimiter.len();
    path.get(..end)
}

/// The least string that sorts after every string starting with `prefix`
/// (in byte order, which is code point order): `prefix` with its last
/// character replaced by the next code point, after dropping trailing
/// U+10FFFF characters (which have none). `None` when there is no such
/// string (`prefix` is empty or all U+10FFFF).
pub fn after_prefix(prefix: &str) -> Option<String> {
    let mut rest = prefix;
    while let Some(last) = rest.chars().next_back() {
        rest = &rest[..rest.len() - last.len_utf8()];
        let next = match u32::from(last) + 1 {
            0xD800 => 0xE000,
            n => n,
        };
        if let Some(c) = char::from_u32(next) {
            let mut out = String::with_capacity(rest.len() + c.len_utf8());
            out.push_str(rest);
            out.push(c);
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{after_prefix, folder_of};

    #[test]
    fn folders_end_at_the_first_delimiter_after_the_prefix() {
        assert_eq!(folder_of("a/b/c", "", "/"), Some("a/"));
        assert_eq!(folder_of("a/b/c", "a/", "/"), Some("a/b/"));
        assert_eq!(folder_of("a/b", "a/", "/"), None);
        assert_eq!(folder_of("a/b", "b", "/"), None);
        assert_eq!(folder_of("a/b", "", ""), None);
        assert_eq!(folder_of("x--y--z", "", "--"), Some("x--"));
        assert_eq!(folder_of("日本→語→x", "日本", "→"), Some("日本→"));
    }

    #[test]
    fn after_prefix_is_above_every_string_with_the_prefix() {
        assert_eq!(after_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(after_prefix("").as_deref(), None);
        assert_eq!(after_prefix("é").as_deref(), Some("ê"));
        assert_eq!(after_prefix("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(after_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(after_prefix("\u{10FFFF}"), None);
        let above = after_prefix("日本/").unwrap_or_default();
        for s in ["日本/", "日本/\u{10FFFF}", "日本/😀/x"] {
            assert!(s < above.as_str(), "{s:?} < {above:?}");
        }
        assert!("日本0" >= above.as_str());
    }
}
