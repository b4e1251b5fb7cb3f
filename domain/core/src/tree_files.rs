//! The committed tree files of a repository, as lakeFS's metadata endpoints
//! expose them: where a range or metarange lives in the namespace, and its
//! bytes (streamed, or as a presigned URL).

use crate::error::{Error, Result};
use crate::Engine;
use tarn_model::{BlockKey, MetaRangeId, RangeId, RepositoryId};
use tarn_ports::{ErrorKind, GetOutcome};

/// Which kind of tree file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeFile {
    /// A range: a sorted run of entries.
    Range,
    /// A metarange: the ordered list of a tree's ranges.
    MetaRange,
}

impl Engine {
    /// The key of tree file `id` in the repository's namespace; the id is
    /// validated as a range or metarange id (hex content addresses).
    pub fn tree_file_key(&self, kind: TreeFile, id: &str) -> Result<BlockKey> {
        Ok(match kind {
            TreeFile::Range => crate::trees::range_key(&RangeId::new(id)?)?,
            TreeFile::MetaRange => crate::trees::metarange_key(&MetaRangeId::new(id)?)?,
        })
    }

    /// The bytes of tree file `id` of `repo`; `Gone` when the store holds none.
    pub async fn read_tree_file(
        &self,
        repo: &RepositoryId,
        kind: TreeFile,
        id: &str,
    ) -> Result<GetOutcome> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let key = self.tree_file_key(kind, id)?;
        match self.stores.blocks.get(&ns, &key, None).await {
            Ok(got) => Ok(got),
            // Garbage collection may have moved it to its trash.
            Err(e) if e.kind() == ErrorKind::NotFound => self
                .trees
                .restore_from_trash(&ns, &key)
                .await
                .map_err(|_| Error::Gone(format!("{} {id}", kind.as_str()))),
            Err(e) => Err(Error::from(e)),
        }
    }

    /// A URL that reads tree file `id` of `repo` straight from the block
    /// store, valid for `expiry_secs` (stores that presign only).
    pub async fn presign_tree_file(
        &self,
        repo: &RepositoryId,
        kind: TreeFile,
        id: &str,
        expiry_secs: u64,
    ) -> Result<String> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let key = self.tree_file_key(kind, id)?;
        Ok(self
            .stores
            .blocks
            .presign(&ns, &key, "GET", expiry_secs)
            .await?)
    }
}

impl TreeFile {
    /// Its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Range => "range",
            Self::MetaRange => "meta_range",
        }
    }
}
