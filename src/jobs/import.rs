//! The `import` job: lakeFS's `importStart`, over the engine's zero-copy
//! import. A re-run after a crash starts the import again from the branch
//! as it is; nothing shows on the branch until the one commit lands.

use super::{JobContext, JobHandler};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::{CommitRequest, Engine, ImportKind, ImportObserver, ImportPath};
use tarn_model::{BranchName, RepositoryId};

/// The job kind.
pub const IMPORT_KIND: &str = "import";
/// The kind of imports `tarn import` starts (see `gc::GC_CLI_KIND`).
pub const IMPORT_CLI_KIND: &str = "import.cli";

/// One source of an import (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportSource {
    pub source: String,
    pub destination: String,
    /// `common_prefix` or `object`.
    pub kind: String,
}

/// An import's parameters (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportTask {
    pub repository: String,
    pub branch: String,
    pub paths: Vec<ImportSource>,
    pub message: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub committer: String,
}

/// An import's result (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportResult {
    pub commit_id: String,
    pub metarange_id: String,
    pub ingested: u64,
}

impl ImportTask {
    /// The engine's view of the paths.
    pub fn import_paths(&self) -> Result<Vec<ImportPath>, String> {
        self.paths
            .iter()
            .map(|p| {
                let kind = match p.kind.as_str() {
                    "common_prefix" => ImportKind::Prefix,
                    "object" => ImportKind::Object,
                    other => return Err(format!("type {other:?}: common_prefix or object")),
                };
                Ok(ImportPath {
                    source: p.source.clone(),
                    destination: p.destination.clone(),
                    kind,
                })
            })
            .collect()
    }
}

/// Runs `import` jobs.
pub struct ImportHandler(pub Engine);

struct Progress<'a>(&'a JobContext);

impl ImportObserver for Progress<'_> {
    fn ingested(&self, n: u64) {
        self.0.report(n, None, "importing");
    }
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

#[async_trait]
impl JobHandler for ImportHandler {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        let task: ImportTask =
            serde_json::from_str(ctx.parameters()).map_err(|e| format!("bad parameters: {e}"))?;
        let repo = RepositoryId::new(&task.repository).map_err(|e| e.to_string())?;
        let branch = BranchName::new(&task.branch).map_err(|e| e.to_string())?;
        let paths = task.import_paths()?;
        let commit = CommitRequest {
            message: task.message.clone(),
            committer: task.committer.clone(),
            metadata: task.metadata.clone(),
            ..CommitRequest::default()
        };
        let (made, ingested) = self
            .0
            .import(&repo, &branch, &paths, commit, &Progress(&ctx))
            .await
            .map_err(|e| e.to_string())?;
        serde_json::to_string(&ImportResult {
            commit_id: made.id.to_string(),
            metarange_id: made.meta_range_id.to_string(),
            ingested,
        })
        .map_err(|e| e.to_string())
    }
}
