//! `import --from <object store URI> --to lakefs://repo/branch/path`: a
//! job in the server, followed with a progress spinner; Ctrl-C cancels it.

use super::CommitFlags;
use crate::client::seg;
use crate::error::{failed, CliResult};
use crate::output::{date, n, s};
use crate::progress::Progress;
use crate::Ctx;
use clap::Args;
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The source: a prefix ending in '/' (s3://bucket/path/) or one object.
    #[arg(long)]
    from: String,
    /// Where: lakefs://<repository>/<branch>/<path>.
    #[arg(long)]
    to: String,
    /// Accepted for lakectl compatibility; has no effect.
    #[arg(long, hide = true)]
    merge: bool,
    /// No progress spinner.
    #[arg(long)]
    no_progress: bool,
    #[command(flatten)]
    flags: CommitFlags,
}

pub(crate) async fn run(ctx: &Ctx, a: ImportArgs) -> CliResult<()> {
    let to = ctx.path(&a.to)?;
    let (message, metadata) = a.flags.parts(true)?;
    let client = ctx.client()?;
    let kind = if a.from.ends_with('/') {
        "common_prefix"
    } else {
        "object"
    };
    let path = format!(
        "/repositories/{}/branches/{}/import",
        seg(&to.repository),
        seg(to.reference())
    );
    let message = if message.is_empty() {
        format!("Import from {}", a.from)
    } else {
        message
    };
    let started = client
        .post(path.clone())
        .json(json!({
            "paths": [{"path": a.from, "destination": to.path(), "type": kind}],
            "commit": {"message": message, "metadata": metadata},
        }))
        .value()
        .await?;
    let id = s(&started, "id").to_owned();
    let bar = Progress::items(&ctx.out, a.no_progress, None, "Importing");
    // One Ctrl-C listener for the whole wait: it cancels the import.
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let status: Value = loop {
        let poll = async {
            let status = client.get(path.clone()).query("id", &id).value().await?;
            let done = status["error"].is_object() || status["completed"].as_bool() == Some(true);
            if !done {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Ok::<_, crate::error::CliError>((status, done))
        };
        let (status, done) = tokio::select! {
            polled = poll => polled?,
            _ = &mut interrupt => {
                bar.finish();
                client.delete(path.clone()).query("id", &id).ok().await?;
                return failed("Import Canceled");
            }
        };
        bar.set_position(status["ingested_objects"].as_u64().unwrap_or_default());
        if done {
            break status;
        }
    };
    bar.finish();
    if let Some(e) = status["error"]["message"].as_str() {
        return failed(format!("Import failed: {e}"));
    }
    if ctx.out.json {
        ctx.out.json(&status);
        return Ok(());
    }
    let c = &status["commit"];
    let parents: Vec<&str> = c["parents"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ctx.out.line(format!(
        "Import of {} object(s) into \"{}\" completed.\nMetaRange ID: {}\nCommit ID: {}\nMessage: {}\nTimestamp: {}\nParents: {}",
        n(&status, "ingested_objects"),
        to.reference(),
        s(&status, "metarange_id"),
        s(c, "id"),
        s(c, "message"),
        date(n(c, "creation_date")),
        parents.join(", "),
    ));
    Ok(())
}
