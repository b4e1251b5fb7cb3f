//! `branch-protect list|add|delete`: read the rules, change them, write
//! them back with `If-Match` so a concurrent change is not lost.

use crate::client::seg;
use crate::error::{failed, CliResult};
use crate::Ctx;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub(crate) enum ProtectCommand {
    /// List a repository's branch protection rules.
    List {
        /// lakefs://<repository>
        repository: String,
    },
    /// Protect the branches matching a pattern (e.g. main, stable/*).
    Add {
        /// lakefs://<repository>
        repository: String,
        pattern: String,
    },
    /// Remove a protection rule.
    Delete {
        /// lakefs://<repository>
        repository: String,
        pattern: String,
    },
}

pub(crate) async fn run(ctx: &Ctx, command: ProtectCommand) -> CliResult<()> {
    let (repository, change) = match &command {
        ProtectCommand::List { repository } => (repository, None),
        ProtectCommand::Add {
            repository,
            pattern,
        } => (repository, Some((true, pattern))),
        ProtectCommand::Delete {
            repository,
            pattern,
        } => (repository, Some((false, pattern))),
    };
    let uri = ctx.repo(repository)?;
    let client = ctx.client()?;
    let path = format!(
        "/repositories/{}/settings/branch_protection",
        seg(&uri.repository)
    );
    let response = client.get(path.clone()).send().await?;
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let rules: Value = response
        .json()
        .await
        .map_err(|e| crate::error::CliError::Failed(format!("unexpected answer: {e}")))?;
    let mut patterns: Vec<String> = rules
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["pattern"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some((add, pattern)) = change else {
        if ctx.out.json {
            ctx.out.json(&rules);
        } else {
            let rows: Vec<Vec<String>> = patterns.into_iter().map(|p| vec![p]).collect();
            ctx.out.table(&["Branch Name Pattern"], &rows);
        }
        return Ok(());
    };
    if add {
        patterns.push(pattern.clone());
    } else {
        let before = patterns.len();
        patterns.retain(|p| p != pattern);
        if patterns.len() == before {
            return failed("Branch protection rule not found");
        }
    }
    let body: Vec<Value> = patterns.iter().map(|p| json!({"pattern": p})).collect();
    let mut call = client.put(path).json(Value::Array(body));
    if let Some(etag) = etag {
        call = call.header("If-Match", etag);
    }
    call.ok().await
}
