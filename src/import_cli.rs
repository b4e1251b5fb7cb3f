//! `tarn import --from URI --to lakefs://repo/branch/path/`: a zero-copy
//! import as a job beside any servers on the same data (as `lakectl
//! import`), with a progress line; Ctrl-C cancels it.

use crate::jobs::import::{ImportResult, ImportSource, ImportTask, IMPORT_CLI_KIND};
use crate::jobs::Jobs;
use crate::settings::{DatabaseKind, Settings};
use crate::startup;
use anyhow::{bail, Context};
use tarn_domain::Engine;
use tarn_model::jobs::{JobKind, JobState};
use tarn_model::{BranchName, RepositoryId};

/// `lakefs://repo/branch/path` → its parts.
fn parse_destination(to: &str) -> anyhow::Result<(RepositoryId, BranchName, String)> {
    let rest = to
        .strip_prefix("lakefs://")
        .with_context(|| format!("--to {to:?}: expected lakefs://<repository>/<branch>/<path>"))?;
    let mut parts = rest.splitn(3, '/');
    let repo = RepositoryId::new(parts.next().unwrap_or("")).context("--to: the repository")?;
    let branch = BranchName::new(parts.next().unwrap_or("")).context("--to: the branch")?;
    Ok((repo, branch, parts.next().unwrap_or("").to_owned()))
}

#[tokio::main]
pub async fn run(
    settings: Settings,
    from: &str,
    to: &str,
    message: Option<String>,
) -> anyhow::Result<()> {
    if settings.database.kind == DatabaseKind::Memory {
        bail!("database.type = \"memory\" holds no repositories: configure the server's database");
    }
    let (repo, branch, destination) = parse_destination(to)?;
    // A source ending in `/` is a prefix (its objects go under the
    // destination); anything else is one object (the destination is its
    // path on the branch).
    let kind = if from.ends_with('/') {
        "common_prefix"
    } else {
        "object"
    };
    if kind == "common_prefix" && !(destination.is_empty() || destination.ends_with('/')) {
        bail!("--to: a prefix imports under a path ending in '/' (or the branch's root)");
    }
    let (stores, services) = startup::build_stores(&settings).await?;
    let job_store = services.jobs;
    let jobs = Jobs::new(
        job_store.clone(),
        stores.clock.clone(),
        stores.ids.clone(),
        startup::gc_tuning(&settings),
    );
    let engine = Engine::new(stores, startup::engine_settings(&settings));
    let task = ImportTask {
        repository: repo.to_string(),
        branch: branch.to_string(),
        paths: vec![ImportSource {
            source: from.to_owned(),
            destination,
            kind: kind.to_owned(),
        }],
        message: message.unwrap_or_else(|| format!("Import from {from}")),
        metadata: Default::default(),
        committer: "tarn import".to_owned(),
    };
    let paths = task.import_paths().map_err(anyhow::Error::msg)?;
    engine.check_import(&repo, &branch, &paths).await?;
    let job = jobs
        .create(
            &JobKind::new(IMPORT_CLI_KIND)?,
            serde_json::to_string(&task)?,
            Some(repo.clone()),
        )
        .await?;
    println!("import {} into {to} started", job.id);
    let finished = crate::cli_jobs::follow(&settings, job_store, engine, &job.id).await?;
    match finished.state {
        JobState::Succeeded => {
            let r: ImportResult = serde_json::from_str(finished.result.as_deref().unwrap_or(""))
                .context("the import's result")?;
            println!(
                "imported {} objects into {to}: commit {}",
                r.ingested, r.commit_id
            );
            Ok(())
        }
        JobState::Canceled => bail!(
            "import {} was canceled; the branch is as it was",
            finished.id
        ),
        _ => bail!(
            "import {} failed: {}",
            finished.id,
            finished.error.unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_destination;

    #[test]
    fn destinations_are_lakefs_uris() {
        let (r, b, p) = parse_destination("lakefs://repo1/main/data/in/").unwrap();
        assert_eq!(
            (r.as_str(), b.as_str(), p.as_str()),
            ("repo1", "main", "data/in/")
        );
        let (_, _, p) = parse_destination("lakefs://repo1/main").unwrap();
        assert_eq!(p, "");
        for bad in [
            "s3://repo1/main/x",
            "lakefs://",
            "lakefs://r/",
            "lakefs://repo1",
        ] {
            assert!(parse_destination(bad).is_err(), "{bad}");
        }
    }
}
