//! Writing a tree: records in key order are cut into content-defined ranges,
//! uploaded a few at a time, and listed in a metarange.

use super::{range_key, TreeStore};
use crate::error::{Error, Result};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tarn_model::tree::{self, RangeInfo, TreeRecord};
use tarn_model::{Entry, MetaRangeId, ObjectPath, StorageNamespace};
use tarn_ports::ByteStream;

/// Range uploads in flight at once.
const PARALLEL_UPLOADS: usize = 8;

pub(crate) struct TreeWriter {
    store: TreeStore,
    ns: StorageNamespace,
    pending: Vec<TreeRecord>,
    pending_bytes: u64,
    done: Vec<RangeInfo>,
    /// The bytes of written ranges this writer left in the cache.
    remembered: u64,
    uploads: FuturesUnordered<BoxFuture<'static, Result<()>>>,
}

impl TreeWriter {
    pub(crate) fn new(store: &TreeStore, ns: &StorageNamespace) -> Self {
        Self {
            store: store.clone(),
            ns: ns.clone(),
            pending: Vec::new(),
            pending_bytes: 0,
            done: Vec::new(),
            remembered: 0,
            uploads: FuturesUnordered::new(),
        }
    }

    /// Whether the last record pushed ended a range: only then can a whole
    /// existing range follow unchanged.
    pub(crate) fn at_boundary(&self) -> bool {
        self.pending.is_empty()
    }

    /// Appends an existing range as it is. Only at a boundary.
    pub(crate) fn reuse(&mut self, info: &RangeInfo) {
        debug_assert!(self.at_boundary());
        self.done.push(info.clone());
    }

    /// Appends a record; paths must ascend.
    pub(crate) async fn push(&mut self, path: ObjectPath, entry: Entry) -> Result<()> {
        self.pending_bytes += encoded_size(&path, &entry);
        let cut = self
            .store
            .split_rule()
            .should_break(&path, self.pending_bytes);
        self.pending.push((path, entry));
        if cut {
            self.cut().await?;
        }
        Ok(())
    }

    async fn cut(&mut self) -> Result<()> {
        let records = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok(());
        };
        let bytes = tree::encode_range(&records);
        let id = tree::range_id(&bytes);
        self.done.push(RangeInfo {
            id: id.clone(),
            first: first.0.clone(),
            last: last.0.clone(),
            count: records.len() as u64,
            bytes: bytes.len() as u64,
        });
        // The next commit or diff most likely reads what this one wrote;
        // of a bulk write, only the first part stays.
        if self.remembered < self.store.remember_per_write() {
            self.remembered += self.store.remember_range(id.clone(), bytes.clone())?;
        }
        let blocks = self.store.blocks().clone();
        let ns = self.ns.clone();
        let key = range_key(&id)?;
        self.uploads.push(Box::pin(async move {
            let size = bytes.len() as u64;
            blocks
                .put(&ns, &key, ByteStream::from_bytes(bytes), Some(size))
                .await
                .map(|_| ())
                .map_err(Error::from)
        }));
        while self.uploads.len() >= PARALLEL_UPLOADS {
            if let Some(r) = self.uploads.next().await {
                r?;
            }
        }
        Ok(())
    }

    /// Ends the last range, waits for every upload, writes the metarange.
    pub(crate) async fn finish(mut self) -> Result<MetaRangeId> {
        self.cut().await?;
        while let Some(r) = self.uploads.next().await {
            r?;
        }
        self.store.write_metarange(&self.ns, self.done).await
    }
}

/// About the bytes a record takes encoded; deterministic in its content, so
/// that size-capped cuts fall at the same places in every commit.
fn encoded_size(path: &ObjectPath, e: &Entry) -> u64 {
    let meta: usize = e.metadata.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let ct = e.content_type.as_ref().map_or(0, String::len);
    (path.as_str().len() + e.checksum.len() + ct + meta + 64) as u64
}
