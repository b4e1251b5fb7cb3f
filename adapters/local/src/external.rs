//! Directories outside the store that imports read: `local:///abs/path`
//! namespaces (a location starting with `/`), served read-only, as plain
//! files, and only under the allowed prefixes
//! (`blockstore.local.allowed_external_prefixes`). Paths are resolved with
//! symbolic links followed and must stay under an allowed prefix; `.` and
//! `..` segments are refused; listings skip symbolic links.
//!
//! A plain file has no stored ETag: it is the MD5 of its size and
//! modification time, so that a changed file gets a new one without reading
//! it.

use crate::file::io_error;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;
use tarn_model::{StorageNamespace, Timestamp};
use tarn_ports::{ObjectMeta, PortError, PortResult};

/// The directories imports may read.
#[derive(Debug, Clone, Default)]
pub(crate) struct External {
    /// Canonical allowed prefixes; empty: importing local files is off.
    allowed: Vec<PathBuf>,
}

/// Whether `ns` names a directory outside the store.
pub(crate) fn is_external(ns: &StorageNamespace) -> bool {
    ns.location().starts_with('/')
}

/// A plain file's ETag, size and modification time.
pub(crate) fn raw_meta_sync(path: &Path) -> io::Result<(String, u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path)?;
    let modified = meta.modified()?;
    let nanos = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let etag = tarn_ports::md5_hex(format!("{}:{nanos}", meta.len()).as_bytes());
    Ok((etag, meta.len(), modified))
}

pub(crate) fn object_meta(path: &Path) -> io::Result<ObjectMeta> {
    let (etag, size, modified) = raw_meta_sync(path)?;
    let micros = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    Ok(ObjectMeta {
        size,
        etag,
        last_modified: Timestamp::from_unix_micros(micros),
    })
}

impl External {
    /// Allows `prefixes` (which must exist).
    pub(crate) fn new(prefixes: &[PathBuf]) -> io::Result<Self> {
        let allowed = prefixes
            .iter()
            .map(std::fs::canonicalize)
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self { allowed })
    }

    fn refused(what: impl std::fmt::Display) -> PortError {
        PortError::invalid_input(format!(
            "{what} is not under blockstore.local.allowed_external_prefixes"
        ))
    }

    /// The real path of `rel` under `ns`'s directory, checked.
    pub(crate) fn resolve(&self, ns: &StorageNamespace, rel: &str) -> PortResult<PathBuf> {
        if self.allowed.is_empty() {
            return Err(PortError::invalid_input(
                "importing local directories is off (blockstore.local.import_enabled)",
            ));
        }
        if rel.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(PortError::invalid_input(format!(
                "{rel:?}: '.' and '..' are not allowed in import paths"
            )));
        }
        let path = Path::new(ns.location()).join(rel.trim_end_matches('/'));
        let real = std::fs::canonicalize(&path).map_err(|e| io_error(path.display(), e))?;
        if self.allowed.iter().any(|a| real.starts_with(a)) {
            Ok(real)
        } else {
            Err(Self::refused(path.display()))
        }
    }

    /// The directory a listing of `prefix` starts in, and the text of the
    /// keys it stands for; `None` when it does not exist (nothing to list).
    pub(crate) fn list_start(
        &self,
        ns: &StorageNamespace,
        prefix: &str,
    ) -> PortResult<Option<(PathBuf, String)>> {
        let dir_text = match prefix.rfind('/') {
            Some(i) => &prefix[..=i],
            None => "",
        };
        match self.resolve(ns, dir_text) {
            Ok(dir) => Ok(Some((dir, dir_text.to_owned()))),
            Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}
