//! `abuse`: load a running server (lakectl's load generator) and report
//! the rate and latency percentiles of what it did.

use crate::client::{seg, Client, Pager};
use crate::config::parse_duration;
use crate::error::{failed, CliError, CliResult};
use crate::output::s;
use crate::Ctx;
use clap::{Args, Subcommand};
use futures::StreamExt;
use rand::Rng;
use serde_json::json;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
pub(crate) enum AbuseCommand {
    /// Stat random keys (from a file, or listed from the ref).
    RandomRead {
        /// lakefs://<repository>/<ref>
        source_ref: String,
        /// Keys, one per line ('-': standard input); default: list the ref under --prefix.
        #[arg(long, default_value = "")]
        from_file: String,
        /// Where to list keys when no file is given.
        #[arg(long, default_value = "")]
        prefix: String,
        #[command(flatten)]
        load: Load,
    },
    /// Upload new objects of --size bytes under a prefix.
    RandomWrite {
        /// lakefs://<repository>/<branch>
        branch: String,
        #[arg(long, default_value = "abuse/")]
        prefix: String,
        /// Bytes per object.
        #[arg(long, default_value_t = 1024)]
        size: usize,
        #[command(flatten)]
        load: Load,
    },
    /// Delete branches with the prefix, then create many from a ref.
    CreateBranches {
        /// lakefs://<repository>/<ref>
        source_ref: String,
        #[arg(long, default_value = "abuse-")]
        branch_prefix: String,
        /// Only delete the branches with the prefix.
        #[arg(long)]
        clean_only: bool,
        #[command(flatten)]
        load: Load,
    },
    /// Commit to a branch, one after another with a gap.
    Commit {
        /// lakefs://<repository>/<branch>
        branch: String,
        #[arg(long, default_value_t = 100)]
        amount: usize,
        /// The pause between commits.
        #[arg(long, default_value = "2s", value_parser = gap)]
        gap: Duration,
    },
    /// Stage one key at the same data (its physical address), over and over.
    LinkSameObject {
        /// lakefs://<repository>/<branch>
        branch: String,
        #[arg(long, default_value = "linked-object")]
        key: String,
        #[command(flatten)]
        load: Load,
    },
    /// List one page under a prefix, over and over.
    List {
        /// lakefs://<repository>/<ref>
        source_ref: String,
        #[arg(long, default_value = "abuse/")]
        prefix: String,
        #[command(flatten)]
        load: Load,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Load {
    /// Requests to make.
    #[arg(long, default_value_t = 1_000_000)]
    amount: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 100)]
    parallelism: usize,
}

fn gap(text: &str) -> Result<Duration, String> {
    parse_duration(text).ok_or_else(|| format!("{text:?} is not a duration"))
}

/// The outcome of a load: counts, rate and latencies.
struct Stats {
    name: &'static str,
    latencies_us: Mutex<Vec<u64>>,
    done: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    elapsed: Duration,
}

impl Stats {
    fn percentile(sorted: &[u64], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
    }

    fn report(&self, ctx: &Ctx) {
        let elapsed = self.elapsed;
        let mut lat = self
            .latencies_us
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        lat.sort_unstable();
        let done = self.done.load(Ordering::Relaxed);
        let errors = self.errors.load(Ordering::Relaxed);
        let secs = elapsed.as_secs_f64().max(1e-9);
        let (p50, p90, p99) = (
            Self::percentile(&lat, 0.5),
            Self::percentile(&lat, 0.9),
            Self::percentile(&lat, 0.99),
        );
        let max = lat.last().copied().unwrap_or_default() as f64 / 1000.0;
        if ctx.out.json {
            ctx.out.json(&json!({
                "name": self.name,
                "completed": done,
                "errors": errors,
                "seconds": secs,
                "rate": done as f64 / secs,
                "latency_ms": {"p50": p50, "p90": p90, "p99": p99, "max": max},
                "first_error": self.first_error.lock().map(|e| e.clone()).unwrap_or_default(),
            }));
            return;
        }
        let mut text = format!(
            "{}: completed: {done}, errors: {errors}, in {secs:.2}s\n",
            self.name
        );
        if let Ok(Some(e)) = self.first_error.lock().map(|e| e.clone()) {
            text.push_str(&format!("First error: {e}\n"));
        }
        text.push_str(&format!(
            "{:.2} successes/s\n{:.2} failures/s\nLatency (ms): p50 {p50:.2}  p90 {p90:.2}  p99 {p99:.2}  max {max:.2}\nHistogram (ms):",
            (done - errors) as f64 / secs,
            errors as f64 / secs
        ));
        for bucket in [
            1u64, 2, 5, 7, 10, 15, 25, 50, 75, 100, 250, 350, 500, 750, 1000, 5000,
        ] {
            let count = lat.partition_point(|l| *l <= bucket * 1000);
            text.push_str(&format!("\n{bucket}\t{count}"));
        }
        ctx.out.line(text);
    }
}

/// Runs `work(i)` for i in 0..amount with `parallelism` in flight,
/// printing the rate each second on stderr, then the report.
async fn stress<F, Fut>(
    name: &'static str,
    amount: usize,
    parallelism: usize,
    gap: Duration,
    work: F,
) -> CliResult<Stats>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = CliResult<()>>,
{
    if parallelism == 0 {
        return crate::error::usage("parallelism must be at least 1");
    }
    let stats = Arc::new(Stats {
        name,
        latencies_us: Mutex::new(Vec::with_capacity(amount.min(1 << 20))),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        first_error: Mutex::new(None),
        elapsed: Duration::ZERO,
    });
    let start = Instant::now();
    let ticker = {
        let stats = stats.clone();
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let done = stats.done.load(Ordering::Relaxed);
                eprintln!(
                    "{} - completed: {done}, errors: {}, current rate: {:.2} done/second",
                    stats.name,
                    stats.errors.load(Ordering::Relaxed),
                    (done - last) as f64
                );
                last = done;
            }
        })
    };
    let run = futures::stream::iter((0..amount).map(|i| {
        let stats = stats.clone();
        let fut = work(i);
        async move {
            if i > 0 && !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            let t = Instant::now();
            let result = fut.await;
            let us = t.elapsed().as_micros() as u64;
            match result {
                Ok(()) => {
                    if let Ok(mut l) = stats.latencies_us.lock() {
                        l.push(us);
                    }
                }
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = stats.first_error.lock() {
                        first.get_or_insert_with(|| e.to_string().replace('\n', " "));
                    }
                }
            }
            stats.done.fetch_add(1, Ordering::Relaxed);
        }
    }))
    .buffer_unordered(parallelism)
    .collect::<()>();
    tokio::select! {
        _ = run => {}
        _ = tokio::signal::ctrl_c() => eprintln!("interrupted"),
    }
    ticker.abort();
    let _ = ticker.await;
    let elapsed = start.elapsed();
    let stats =
        Arc::try_unwrap(stats).map_err(|_| CliError::Failed("load still running".into()))?;
    Ok(Stats { elapsed, ..stats })
}

async fn keys(
    ctx: &Ctx,
    client: &Client,
    repo: &str,
    reference: &str,
    from_file: &str,
    prefix: &str,
) -> CliResult<Vec<String>> {
    let keys: Vec<String> = if from_file.is_empty() {
        Pager::new(
            client,
            format!(
                "/repositories/{}/refs/{}/objects/ls",
                seg(repo),
                seg(reference)
            ),
        )
        .query("prefix", prefix)
        .amount(1000)
        .all()
        .await?
        .iter()
        .map(|o| s(o, "path").to_owned())
        .collect()
    } else {
        let text = if from_file == "-" {
            std::io::read_to_string(std::io::stdin())
                .map_err(|e| CliError::io("read standard input", e))?
        } else {
            std::fs::read_to_string(from_file)
                .map_err(|e| CliError::io(format!("read {from_file}"), e))?
        };
        text.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if keys.is_empty() {
        return failed("no keys to read: give --from-file, or a ref and --prefix with objects");
    }
    if !ctx.out.json {
        eprintln!("read a total of {} keys from key file", keys.len());
    }
    Ok(keys)
}

pub(crate) async fn run(ctx: &Ctx, command: AbuseCommand) -> CliResult<()> {
    let client = ctx.client()?;
    let client = &client;
    match command {
        AbuseCommand::RandomRead {
            source_ref,
            from_file,
            prefix,
            load,
        } => {
            let uri = ctx.reference(&source_ref)?;
            let keys = keys(
                ctx,
                client,
                &uri.repository,
                uri.reference(),
                &from_file,
                &prefix,
            )
            .await?;
            let path = format!(
                "/repositories/{}/refs/{}/objects/stat",
                seg(&uri.repository),
                seg(uri.reference())
            );
            stress(
                "read",
                load.amount,
                load.parallelism,
                Duration::ZERO,
                |_| {
                    let key = keys[rand::rng().random_range(0..keys.len())].clone();
                    let path = path.clone();
                    async move { client.get(path).query("path", key).ok().await }
                },
            )
            .await
            .map(|stats| stats.report(ctx))
        }
        AbuseCommand::RandomWrite {
            branch,
            prefix,
            size,
            load,
        } => {
            let uri = ctx.branch(&branch)?;
            client
                .get(format!("/repositories/{}", seg(&uri.repository)))
                .ok()
                .await?;
            let body = bytes::Bytes::from(vec![b'x'; size]);
            let upload = format!(
                "/repositories/{}/branches/{}/objects",
                seg(&uri.repository),
                seg(uri.reference())
            );
            stress(
                "stage object",
                load.amount,
                load.parallelism,
                Duration::ZERO,
                |i| {
                    let key = format!("{prefix}file-{i}");
                    let (body, upload) = (body.clone(), upload.clone());
                    async move {
                        client
                            .post(upload)
                            .query("path", key)
                            .send_body(body.into(), "application/octet-stream")
                            .await
                            .map(drop)
                    }
                },
            )
            .await
            .map(|stats| stats.report(ctx))
        }
        AbuseCommand::CreateBranches {
            source_ref,
            branch_prefix,
            clean_only,
            load,
        } => {
            let uri = ctx.reference(&source_ref)?;
            let branches = format!("/repositories/{}/branches", seg(&uri.repository));
            let old: Vec<String> = Pager::new(client, branches.clone())
                .query("prefix", &branch_prefix)
                .amount(1000)
                .all()
                .await?
                .iter()
                .map(|b| s(b, "id").to_owned())
                .collect();
            let deleted = stress(
                "delete branch",
                old.len(),
                load.parallelism,
                Duration::ZERO,
                |i| {
                    let path = format!("{branches}/{}", seg(&old[i]));
                    async move { client.delete(path).ok().await }
                },
            )
            .await?;
            if !ctx.out.json || clean_only {
                deleted.report(ctx);
            }
            if clean_only {
                return Ok(());
            }
            stress(
                "create branch",
                load.amount,
                load.parallelism,
                Duration::ZERO,
                |i| {
                    let (branches, uri) = (branches.clone(), &uri);
                    let name = format!("{branch_prefix}{i}");
                    async move {
                        client
                            .post(branches)
                            .json(json!({"name": name, "source": uri.reference()}))
                            .ok()
                            .await
                    }
                },
            )
            .await
            .map(|stats| stats.report(ctx))
        }
        AbuseCommand::Commit {
            branch,
            amount,
            gap,
        } => {
            let uri = ctx.branch(&branch)?;
            let path = format!(
                "/repositories/{}/branches/{}/commits",
                seg(&uri.repository),
                seg(uri.reference())
            );
            client
                .get(format!("/repositories/{}", seg(&uri.repository)))
                .ok()
                .await?;
            stress("commit", amount, 1, gap, |i| {
                let path = path.clone();
                async move {
                    client
                        .post(path)
                        .json(json!({"message": format!("{}", i + 1), "allow_empty": true}))
                        .ok()
                        .await
                }
            })
            .await
            .map(|stats| stats.report(ctx))
        }
        AbuseCommand::LinkSameObject { branch, key, load } => {
            let uri = ctx.branch(&branch)?;
            let objects = format!(
                "/repositories/{}/branches/{}/objects",
                seg(&uri.repository),
                seg(uri.reference())
            );
            let st: serde_json::Value = client
                .post(objects.clone())
                .query("path", &key)
                .send_body(
                    bytes::Bytes::from_static(b"linked object").into(),
                    "application/octet-stream",
                )
                .await?
                .json()
                .await
                .map_err(|e| CliError::Failed(format!("unexpected answer to an upload: {e}")))?;
            if !ctx.out.json {
                eprintln!("Object key: {key}");
            }
            let body = json!({
                "physical_address": st["physical_address"],
                "checksum": st["checksum"],
                "size_bytes": st["size_bytes"],
            });
            stress(
                "link",
                load.amount,
                load.parallelism,
                Duration::ZERO,
                |_| {
                    let (objects, key, body) = (objects.clone(), key.clone(), body.clone());
                    async move { client.put(objects).query("path", key).json(body).ok().await }
                },
            )
            .await
            .map(|stats| stats.report(ctx))
        }
        AbuseCommand::List {
            source_ref,
            prefix,
            load,
        } => {
            let uri = ctx.reference(&source_ref)?;
            let path = format!(
                "/repositories/{}/refs/{}/objects/ls",
                seg(&uri.repository),
                seg(uri.reference())
            );
            stress(
                "list",
                load.amount,
                load.parallelism,
                Duration::ZERO,
                |_| {
                    let (path, prefix) = (path.clone(), prefix.clone());
                    async move { client.get(path).query("prefix", prefix).ok().await }
                },
            )
            .await
            .map(|stats| stats.report(ctx))
        }
    }
}
