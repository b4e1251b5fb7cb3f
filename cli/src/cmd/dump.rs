//! `refs-dump` and `refs-restore`: tasks in the server, polled until done.

use crate::client::{seg, Client};
use crate::error::{failed, CliError, CliResult};
use crate::output::Paint;
use crate::Ctx;
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub(crate) struct DumpArgs {
    /// lakefs://<repository>
    repository: String,
    /// How often to ask whether the task is done.
    #[arg(long, default_value = "500ms", value_parser = duration)]
    poll_interval: Duration,
    /// Give up after this long.
    #[arg(long, default_value = "1h", value_parser = duration)]
    timeout: Duration,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// lakefs://<repository>: a bare repository.
    repository: String,
    /// The manifest refs-dump printed ('-': standard input).
    #[arg(long)]
    manifest: PathBuf,
    #[arg(long, default_value = "500ms", value_parser = duration)]
    poll_interval: Duration,
    #[arg(long, default_value = "1h", value_parser = duration)]
    timeout: Duration,
}

fn duration(text: &str) -> Result<Duration, String> {
    crate::config::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration (e.g. 3s, 1h)"))
}

async fn poll(
    client: &Client,
    path: String,
    id: &str,
    every: Duration,
    timeout: Duration,
    what: &str,
) -> CliResult<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = client
            .get(path.clone())
            .query("task_id", id)
            .value()
            .await?;
        if let Some(e) = status["error"].as_str() {
            return failed(format!("{what} failed: {e}"));
        }
        if status["done"].as_bool() == Some(true) {
            return Ok(status);
        }
        if Instant::now() > deadline {
            return failed(format!(
                "{what} failed: timed out after {timeout:?} (task {id})"
            ));
        }
        tokio::time::sleep(every).await;
    }
}

pub(crate) async fn dump(ctx: &Ctx, a: DumpArgs) -> CliResult<()> {
    let uri = ctx.repo(&a.repository)?;
    let client = ctx.client()?;
    let path = format!("/repositories/{}/dump", seg(&uri.repository));
    let task = client.post(path.clone()).value().await?;
    let id = task["id"].as_str().unwrap_or_default().to_owned();
    let status = poll(&client, path, &id, a.poll_interval, a.timeout, "Refs dump").await?;
    let refs = &status["refs"];
    if !refs.is_object() {
        return failed("Refs dump failed: no refs returned");
    }
    ctx.out.json(refs);
    Ok(())
}

pub(crate) async fn restore(ctx: &Ctx, a: RestoreArgs) -> CliResult<()> {
    let uri = ctx.repo(&a.repository)?;
    let text = if a.manifest.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| CliError::io("read standard input", e))?
    } else {
        std::fs::read_to_string(&a.manifest)
            .map_err(|e| CliError::io(format!("read {}", a.manifest.display()), e))?
    };
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("the manifest is not JSON: {e}")))?;
    let client = ctx.client()?;
    ctx.out.line(format!("Repository: {uri}"));
    let path = format!("/repositories/{}/restore", seg(&uri.repository));
    let task = client.post(path.clone()).json(manifest).value().await?;
    let id = task["id"].as_str().unwrap_or_default().to_owned();
    poll(
        &client,
        path,
        &id,
        a.poll_interval,
        a.timeout,
        "Refs restore",
    )
    .await?;
    ctx.out.line(
        ctx.out
            .paint("\nAll references restored successfully!", Paint::Green),
    );
    Ok(())
}
