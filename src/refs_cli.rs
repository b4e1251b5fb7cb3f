//! `tarn refs-dump` and `tarn refs-restore`: a repository's commits,
//! branches and tags to and from objects in its namespace, as the API's
//! `dumpRefs` / `restoreRefs` (lakectl's commands of the same names). The
//! manifest is the JSON of the dump's three object ids.

use crate::settings::{DatabaseKind, Settings};
use crate::startup;
use anyhow::{bail, Context};
use std::io::Read;
use std::path::Path;
use tarn_domain::{Engine, RefsDump};
use tarn_model::RepositoryId;

async fn engine(settings: &Settings) -> anyhow::Result<Engine> {
    if settings.database.kind == DatabaseKind::Memory {
        bail!("database.type = \"memory\" holds no repositories: configure the server's database");
    }
    let (stores, _services) = startup::build_stores(settings).await?;
    Ok(Engine::new(stores, startup::engine_settings(settings)))
}

/// Dumps `repository`'s refs; prints the manifest.
#[tokio::main(flavor = "current_thread")]
pub async fn dump(settings: Settings, repository: &str) -> anyhow::Result<()> {
    let repo = RepositoryId::new(repository).context("--repository")?;
    let engine = engine(&settings).await?;
    let d = engine.dump_refs(&repo).await?;
    let manifest = serde_json::json!({
        "commits_meta_range_id": d.commits_meta_range_id,
        "branches_meta_range_id": d.branches_meta_range_id,
        "tags_meta_range_id": d.tags_meta_range_id,
    });
    println!("{}", serde_json::to_string_pretty(&manifest)?);
    Ok(())
}

/// Restores `manifest` (a file, or `-` for standard input) into the bare
/// repository `repository`.
#[tokio::main(flavor = "current_thread")]
pub async fn restore(
    settings: Settings,
    repository: &str,
    manifest: &Path,
    force: bool,
) -> anyhow::Result<()> {
    let repo = RepositoryId::new(repository).context("--repository")?;
    let text = if manifest == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(manifest)
            .with_context(|| format!("reading the manifest {}", manifest.display()))?
    };
    let v: serde_json::Value = serde_json::from_str(&text).context("the manifest is not JSON")?;
    let field = |name: &str| -> anyhow::Result<String> {
        v.get(name)
            .and_then(|x| x.as_str())
            .map(str::to_owned)
            .with_context(|| format!("the manifest has no {name}"))
    };
    let dump = RefsDump {
        commits_meta_range_id: field("commits_meta_range_id")?,
        branches_meta_range_id: field("branches_meta_range_id")?,
        tags_meta_range_id: field("tags_meta_range_id")?,
    };
    let engine = engine(&settings).await?;
    engine.restore_refs(&repo, &dump, force).await?;
    println!("restored the refs of {repo}");
    Ok(())
}
