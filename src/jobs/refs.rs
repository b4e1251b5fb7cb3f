//! The `refs.dump` and `refs.restore` jobs: lakeFS's asynchronous
//! `dumpSubmit` / `restoreSubmit`, over the engine's synchronous dump and
//! restore. A dump writes new objects each time and a restore loads into a
//! bare repository (a failed one leaves it bare), so a re-run after a crash
//! is safe.

use super::{JobContext, JobHandler};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, RefsDump};
use tarn_model::RepositoryId;

/// The dump job kind.
pub const DUMP_KIND: &str = "refs.dump";
/// The restore job kind.
pub const RESTORE_KIND: &str = "refs.restore";

/// A dump's or restore's parameters (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefsTask {
    /// The repository.
    pub repository: String,
    /// For a restore: the dump to load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump: Option<DumpIds>,
    /// For a restore: into a read-only repository too.
    #[serde(default)]
    pub force: bool,
}

/// A dump's three objects, by id (also a dump job's result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpIds {
    pub commits_meta_range_id: String,
    pub branches_meta_range_id: String,
    pub tags_meta_range_id: String,
}

impl From<RefsDump> for DumpIds {
    fn from(d: RefsDump) -> Self {
        Self {
            commits_meta_range_id: d.commits_meta_range_id,
            branches_meta_range_id: d.branches_meta_range_id,
            tags_meta_range_id: d.tags_meta_range_id,
        }
    }
}

impl From<DumpIds> for RefsDump {
    fn from(d: DumpIds) -> Self {
        Self {
            commits_meta_range_id: d.commits_meta_range_id,
            branches_meta_range_id: d.branches_meta_range_id,
            tags_meta_range_id: d.tags_meta_range_id,
        }
    }
}

fn task(ctx: &JobContext) -> Result<(RefsTask, RepositoryId), String> {
    let t: RefsTask =
        serde_json::from_str(ctx.parameters()).map_err(|e| format!("bad parameters: {e}"))?;
    let repo = RepositoryId::new(&t.repository).map_err(|e| e.to_string())?;
    Ok((t, repo))
}

/// Runs `refs.dump` jobs.
pub struct DumpHandler(pub Engine);

#[async_trait]
impl JobHandler for DumpHandler {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        let (_, repo) = task(&ctx)?;
        ctx.report(0, None, "dumping refs");
        let dump = self.0.dump_refs(&repo).await.map_err(|e| e.to_string())?;
        serde_json::to_string(&DumpIds::from(dump)).map_err(|e| e.to_string())
    }
}

/// Runs `refs.restore` jobs.
pub struct RestoreHandler(pub Engine);

#[async_trait]
impl JobHandler for RestoreHandler {
    async fn run(&self, ctx: JobContext) -> Result<String, String> {
        let (t, repo) = task(&ctx)?;
        let dump = t.dump.ok_or("a restore names the dump to load")?;
        ctx.report(0, None, "restoring refs");
        self.0
            .restore_refs(&repo, &dump.into(), t.force)
            .await
            .map_err(|e| e.to_string())?;
        Ok(String::new())
    }
}
