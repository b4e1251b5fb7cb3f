//! Reading staged changes: cursors over staging tokens, and the merged view
//! of a branch (staging tokens newest first, then the committed tree).

use crate::error::Result;
use crate::trees::{ChangeSource, TreeChange, TreeCursor};
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::Arc;
use tarn_model::{Entry, ObjectPath, StagedValue, StagingToken};
use tarn_ports::{after_prefix, folder_of, StagingEntry, StagingStore};

/// The first read of a delimited listing: enough to tell a level of folders
/// (read a folder's first entry at a time) from one of files (read plainly,
/// which is cheaper per entry).
const PROBE: usize = 32;

/// The first read inside a folder that a delimited listing walks into: most
/// such walks stop after an entry or two (a tombstone hiding a committed
/// object, an entry a newer token shadows).
const FIRST_IN_FOLDER: usize = 8;

/// A buffered entry.
struct Buffered {
    entry: StagingEntry,
    /// `Some(n)`: entries of this entry's folder that sort after it were not
    /// read (a folder scan returns a folder's first entry only); if the
    /// consumer goes into the folder, they are read `n` at a time.
    gap: Option<usize>,
}

/// Entries of `folder` after `after` that were not read; they sort before
/// the buffer's front.
struct Hole {
    after: ObjectPath,
    folder: String,
    size: usize,
}

/// The entries of one token under a prefix, in order, read a page at a time.
///
/// For a delimited listing ([`Self::for_listing`]) the cursor reads the first
/// entry of each folder only (`StagingStore::scan_folders`), so that skipping
/// a folder reads none of it. Should the consumer go past a folder's first
/// entry without skipping the folder (the entry is a tombstone, or a newer
/// token shadows it), the cursor then reads inside that folder, from that
/// entry, before anything else: it yields every entry all the same. While
/// reads meet only files (entries in no folder), it reads plainly, until a
/// plain read meets a folder.
pub(crate) struct StagingCursor {
    store: Arc<dyn StagingStore>,
    token: StagingToken,
    prefix: String,
    /// Set for a delimited listing.
    delimiter: Option<String>,
    /// The most entries one read returns.
    page: usize,
    /// Entries the next read of the main sequence asks for.
    next_read: usize,
    /// Entries the consumer likely needs.
    wanted: usize,
    /// The next read of a delimited listing is a plain scan.
    plain: bool,
    buf: VecDeque<Buffered>,
    hole: Option<Hole>,
    /// Where the main sequence of reads goes on from.
    last: Option<ObjectPath>,
    /// The main sequence has nothing after `buf` (but the gap of its last
    /// entry, if any).
    exhausted: bool,
}

impl StagingCursor {
    /// A cursor after `after` that reads up to `page` entries at a time.
    pub(crate) fn new(
        store: Arc<dyn StagingStore>,
        token: StagingToken,
        prefix: &str,
        after: Option<ObjectPath>,
        page: usize,
    ) -> Self {
        let page = page.max(1);
        Self {
            store,
            token,
            prefix: prefix.to_owned(),
            delimiter: None,
            page,
            next_read: page,
            wanted: page,
            plain: false,
            buf: VecDeque::new(),
            hole: None,
            last: after,
            exhausted: false,
        }
    }

    /// Reads for a listing that likely needs `wanted` entries (or folders):
    /// that many first (after a small probe when delimited by `delimiter`),
    /// then twice as many each time, up to the page. A listing delimited by
    /// `delimiter` (not empty) reads folder by folder.
    pub(crate) fn for_listing(mut self, delimiter: Option<&str>, wanted: usize) -> Self {
        self.wanted = wanted.clamp(1, self.page);
        self.next_read = self.wanted;
        if let Some(d) = delimiter.filter(|d| !d.is_empty()) {
            self.delimiter = Some(d.to_owned());
            self.wanted = wanted.clamp(2, self.folder_page());
            self.next_read = self.wanted.min(PROBE);
        }
        self
    }

    /// The most folders a read asks for: at least two, so that a read from
    /// inside a folder being skipped reaches past it.
    fn folder_page(&self) -> usize {
        self.page.max(2)
    }

    /// The next entry, reading as needed.
    pub(crate) async fn peek(&mut self) -> Result<Option<&StagingEntry>> {
        if let Some(hole) = self.hole.take() {
            self.read_folder(hole).await?;
        }
        if self.buf.is_empty() && !self.exhausted {
            self.read().await?;
        }
        Ok(self.buf.front().map(|b| &b.entry))
    }

    /// Takes the entry [`Self::peek`] returned.
    pub(crate) fn pop(&mut self) -> Option<StagingEntry> {
        let b = self.buf.pop_front()?;
        if let Some(size) = b.gap {
            let folder = self
                .delimiter
                .as_deref()
                .and_then(|d| folder_of(b.entry.0.as_str(), &self.prefix, d));
            if let Some(folder) = folder {
                self.hole = Some(Hole {
                    after: b.entry.0.clone(),
                    folder: folder.to_owned(),
                    size,
                });
            }
        }
        Some(b.entry)
    }

    /// Skips the entries at the front that start with `prefix`. A skipped
    /// folder is not read: only the first entry of the next one.
    pub(crate) async fn skip_prefix(&mut self, prefix: &str) -> Result<()> {
        loop {
            if self
                .hole
                .as_ref()
                .is_some_and(|h| h.folder.starts_with(prefix))
            {
                self.hole = None;
            }
            match self.peek().await? {
                Some((p, _)) if p.as_str().starts_with(prefix) => {
                    self.pop();
                }
                _ => return Ok(()),
            }
        }
    }

    /// The next read of the main sequence.
    async fn read(&mut self) -> Result<()> {
        let n = self.next_read;
        let folders = self.delimiter.as_deref().filter(|_| !self.plain);
        let page = match folders {
            Some(d) => {
                self.store
                    .scan_folders(&self.token, &self.prefix, d, self.last.as_ref(), n)
                    .await?
            }
            None => {
                self.store
                    .scan(&self.token, &self.prefix, self.last.as_ref(), n)
                    .await?
            }
        };
        self.exhausted = page.len() < n;
        if let Some((p, _)) = page.last() {
            self.last = Some(p.clone());
        }
        let most = match folders {
            Some(_) => self.folder_page(),
            None => self.page,
        };
        self.next_read = if n < self.wanted {
            self.wanted
        } else {
            n.saturating_mul(2).min(most)
        };
        let first_in_folder = FIRST_IN_FOLDER.min(self.page);
        let mut met_folder = false;
        for entry in page {
            let in_folder = self
                .delimiter
                .as_deref()
                .and_then(|d| folder_of(entry.0.as_str(), &self.prefix, d))
                .is_some();
            met_folder |= in_folder;
            // A plain read has read a folder's entries in a row: no gap.
            let gap = (in_folder && folders.is_some()).then_some(first_in_folder);
            self.buf.push_back(Buffered { entry, gap });
        }
        // Folders are read folder by folder, files plainly; a plain read
        // reads at most a page of a folder before the next read skips it.
        self.plain = self.delimiter.is_some() && !met_folder;
        Ok(())
    }

    /// Reads what `hole` left unread, in front of the buffer.
    async fn read_folder(&mut self, hole: Hole) -> Result<()> {
        let got = self
            .store
            .scan(&self.token, &hole.folder, Some(&hole.after), hole.size)
            .await?;
        let more = (got.len() == hole.size).then(|| hole.size.saturating_mul(2).min(self.page));
        if let Some((p, _)) = got.last() {
            // With the buffer empty, the main sequence was at `hole.after`.
            if self.last.as_ref().is_none_or(|l| p > l) {
                self.last = Some(p.clone());
            }
        }
        let n = got.len();
        for (i, entry) in got.into_iter().enumerate().rev() {
            let gap = if i + 1 == n { more } else { None };
            self.buf.push_front(Buffered { entry, gap });
        }
        Ok(())
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
                if let Some((_, v)) = s.pop() {
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

    /// Skips every path that starts with `prefix`, a prefix of the path last
    /// returned (the tree is sought past it).
    pub(crate) async fn skip_prefix(&mut self, prefix: &str) -> Result<()> {
        for s in &mut self.staging {
            s.skip_prefix(prefix).await?;
        }
        if let Some(t) = &mut self.tree {
            match after_prefix(prefix) {
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
