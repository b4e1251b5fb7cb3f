//! The local side of recursive transfers: walking a directory, comparing
//! its files with objects, and safe paths for downloads.

use super::transfer::{mtime_secs, object_mtime};
use crate::error::{failed, CliError, CliResult};
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

/// A remote relative path as a safe local path under `root`.
pub(crate) fn local_path(root: &Path, rel: &str) -> CliResult<PathBuf> {
    let rel_path = Path::new(rel);
    if rel.is_empty()
        || rel_path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return failed(format!(
            "refusing to write object path {rel:?} outside the destination"
        ));
    }
    // Nor through a symbolic link inside the destination.
    let mut at = root.to_owned();
    for part in rel_path.components() {
        at.push(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return failed(format!(
                "refusing to write object path {rel:?}: {} is a symbolic link",
                at.display()
            ));
        }
    }
    Ok(root.join(rel_path))
}

/// A local file of a recursive transfer.
pub(crate) struct LocalFile {
    pub rel: String,
    pub abs: PathBuf,
    pub size: u64,
    pub mtime: i64,
}

/// Every regular file under `root`, relative paths with '/', sorted.
/// Skipped: `.lakefs_ref.yaml`, `.DS_Store` and partial downloads.
pub(crate) fn walk(root: &Path, skip_non_regular: bool) -> CliResult<Vec<LocalFile>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry =
            entry.map_err(|e| CliError::Failed(format!("reading {}: {e}", root.display())))?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if name == ".lakefs_ref.yaml" || name == ".DS_Store" || name.contains(".tarn-partial-") {
            continue;
        }
        if !ft.is_file() {
            if skip_non_regular {
                continue;
            }
            return failed(format!(
                "{}: not a regular file (set local.skip_non_regular_files to skip such files)",
                entry.path().display()
            ));
        }
        let meta = entry
            .metadata()
            .map_err(|e| CliError::Failed(format!("stat {}: {e}", entry.path().display())))?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.push(LocalFile {
            rel,
            abs: entry.path().to_owned(),
            size: meta.len(),
            mtime: mtime_secs(&meta),
        });
    }
    Ok(files)
}

/// The same content by lakectl's rule: size and mtime in whole seconds.
pub(crate) fn unchanged(file: &LocalFile, stats: &Value) -> bool {
    stats["size_bytes"].as_u64() == Some(file.size) && object_mtime(stats) == file.mtime
}
