//! `.lakefs_ref.yaml`: which remote path a directory mirrors, at which
//! commit, and whether an operation was interrupted (lakectl's format).

use crate::error::{failed, CliError, CliResult};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub(crate) const INDEX_FILE: &str = ".lakefs_ref.yaml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Index {
    /// lakefs://repo/ref/path/
    pub src: String,
    /// The commit the directory was last synced to.
    pub at_head: String,
    /// clone, pull, checkout or commit while one runs; "" otherwise.
    #[serde(default)]
    pub active_operation: String,
}

impl Index {
    pub(crate) fn write(&self, root: &Path) -> CliResult<()> {
        let text = yaml_serde::to_string(self)
            .map_err(|e| CliError::Failed(format!("cannot write the index: {e}")))?;
        let path = root.join(INDEX_FILE);
        let tmp = root.join(format!("{INDEX_FILE}.tmp"));
        std::fs::write(&tmp, text)
            .map_err(|e| CliError::io(format!("write {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| CliError::io(format!("write {}", path.display()), e))
    }

    pub(crate) fn read(root: &Path) -> CliResult<Index> {
        let path = root.join(INDEX_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::io(format!("read {}", path.display()), e))?;
        yaml_serde::from_str(&text)
            .map_err(|e| CliError::Failed(format!("{} is not a valid index: {e}", path.display())))
    }

    /// The directory holding the index: `dir` or its nearest parent with one.
    pub(crate) fn find_root(dir: &Path) -> CliResult<PathBuf> {
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.join(INDEX_FILE).is_file() {
                return Ok(d.to_owned());
            }
            cur = d.parent();
        }
        failed(format!(
            "directory {} is not linked to a lakeFS path (could not find {INDEX_FILE} in it or its parents): run `tarn local clone` or `tarn local init`",
            dir.display()
        ))
    }

    /// Every linked directory under `root` (not descending into hidden ones
    /// or past a linked one).
    pub(crate) fn find_all(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut walk = walkdir::WalkDir::new(root).sort_by_file_name().into_iter();
        while let Some(Ok(entry)) = walk.next() {
            if !entry.file_type().is_dir() {
                continue;
            }
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                walk.skip_current_dir();
                continue;
            }
            if entry.path().join(INDEX_FILE).is_file() {
                out.push(entry.path().to_owned());
                walk.skip_current_dir();
            }
        }
        out
    }
}

/// The message for an interrupted operation (lakectl's).
pub(crate) fn interrupted(op: &str) -> String {
    match op {
        "commit" => "Latest commit operation was interrupted, data may be incomplete.\nUse \"tarn local commit...\" to commit your latest changes or \"tarn local pull... --force\" to sync with the remote.".into(),
        "pull" => "Latest pull operation was interrupted, local data may be incomplete.\nUse \"tarn local pull... --force\" to sync with the remote.".into(),
        "clone" => "Latest clone operation was interrupted, local data may be incomplete.\nUse \"tarn local checkout...\" to sync with the remote or run \"tarn local clone...\" with a different directory to sync with the remote.".into(),
        _ => "Latest checkout operation was interrupted, local data may be incomplete.\nUse \"tarn local checkout...\" to sync with the remote.".into(),
    }
}
