//! Reading staged changes: cursors over staging tokens, and the merged view
//! of a branch (staging tokens newest first, then the committed tree).

use crate::error::Result;
use crate::trees::{ChangeSource, TreeChange, TreeCursor};
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::Arc;
use tarn_model::{Entry, ObjectPath, StagedValue, StagingToken};
use tarn_ports::{StagingEntry, StagingStore};

/// Entries fetched per staging scan.
const PAGE: usize = 1024;

/// The entries of one token under a prefix, in order, fetched a page at a time.
pub(crate) struct StagingCursor {
    store: Arc<dyn StagingStore>,
    token: StagingToken,
    prefix: String,
    buf: VecDeque<StagingEntry>,
    last: Option<ObjectPath>,
    exhausted: bool,
}

impl StagingCursor {
    pub(crate) fn new(
        store: Arc<dyn StagingStore>,
        token: StagingToken,
        prefix: &str,
        after: Option<ObjectPath>,
    ) -> Self {
        Self {
            store,
            token,
            prefix: prefix.to_owned(),
            buf: VecDeque::new(),
            last: after,
            exhausted: false,
        }
    }

    pub(crate) async fn peek(&mut self) -> Result<Option<&StagingEntry>> {
        if self.buf.is_empty() && !self.exhausted {
            let page = self
                .store
                .scan(&self.token, &self.prefix, self.last.as_ref(), PAGE)
                .await?;
            self.exhausted = page.len() < PAGE;
            self.last = page.last().map(|(p, _)| p.clone());
            self.buf.extend(page);
        }
        Ok(self.buf.front())
    }

    pub(crate) fn advance(&mut self) {
        self.buf.pop_front();
    }
}

/// A branch, commit or staging-only view in path order: the first source that
/// holds a path decides its value (a tombstone hides what is below).
pub(crate) struct ViewCursor {
    staging: Vec<StagingCursor>,
    tree: Option<TreeCursor>,
}

impl ViewCursor {
    /// `staging` newest first; `tree` is the committed layer, if any.
    pub(crate) fn new(staging: Vec<StagingCursor>, tree: Option<TreeCursor>) -> Self {
        Self { staging, tree }
    }

    /// The next path with its value (`None`: a tombstone), tombstones included.
    pub(crate) async fn next_raw(&mut self) -> Result<Option<TreeChange>> {
        let mut min: Option<ObjectPath> = None;
        for s in &mut self.staging {
            if let Some((p, _)) = s.peek().await? {
                if min.as_ref().is_none_or(|m| p < m) {
                    min = Some(p.clone());
                }
            }
        }
        if let Some(t) = &mut self.tree {
            if let Some((p, _)) = t.peek().await? {
                if min.as_ref().is_none_or(|m| p < m) {
                    min = Some(p.clone());
                }
            }
        }
        let Some(path) = min else {
            return Ok(None);
        };
        let mut value: Option<Option<Entry>> = None;
        for s in &mut self.staging {
            let here = matches!(s.peek().await?, Some((p, _)) if *p == path);
            if here {
                if let Some((_, v)) = s.buf.pop_front() {
                    if value.is_none() {
                        value = Some(match v {
                            StagedValue::Entry(e) => Some(e),
                            StagedValue::Tombstone => None,
                        });
                    }
                }
            }
        }
        if let Some(t) = &mut self.tree {
            let here = matches!(t.peek().await?, Some((p, _)) if *p == path);
            if here {
                if value.is_none() {
                    value = t.current().map(|(_, e)| Some(e.clone()));
                }
                t.advance();
            }
        }
        Ok(Some((path, value.flatten())))
    }

    /// The next visible entry (tombstoned paths skipped).
    pub(crate) async fn next_entry(&mut self) -> Result<Option<(ObjectPath, Entry)>> {
        while let Some((p, v)) = self.next_raw().await? {
            if let Some(e) = v {
                return Ok(Some((p, e)));
            }
        }
        Ok(None)
    }

    /// Skips every path that starts with `prefix`.
    pub(crate) async fn skip_prefix(&mut self, prefix: &str) -> Result<()> {
        for s in &mut self.staging {
            while matches!(s.peek().await?, Some((p, _)) if p.as_str().starts_with(prefix)) {
                s.advance();
            }
        }
        if let Some(t) = &mut self.tree {
            match successor(prefix) {
                Some(next) => t.seek(&next).await?,
                None => {
                    while matches!(t.peek().await?, Some((p, _)) if p.as_str().starts_with(prefix))
                    {
                        t.advance();
                    }
                }
            }
        }
        Ok(())
    }
}

impl ChangeSource for ViewCursor {
    fn next_change(&mut self) -> BoxFuture<'_, Result<Option<TreeChange>>> {
        Box::pin(self.next_raw())
    }
}

/// The smallest string above every string starting with `prefix`, when its
/// last character is ASCII (the usual delimiter `/` included).
fn successor(prefix: &str) -> Option<String> {
    let last = prefix.chars().last()?;
    if !last.is_ascii() || last == '\x7f' {
        return None;
    }
    let mut s = prefix[..prefix.len() - 1].to_owned();
    s.push(char::from(last as u8 + 1));
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::successor;

    #[test]
    fn successor_of_a_directory_prefix() {
        assert_eq!(successor("a/b/").as_deref(), Some("a/b0"));
        assert_eq!(successor("").as_deref(), None);
        assert_eq!(successor("é").as_deref(), None);
    }
}
