//! `gc.schedule`: every instance looks, once a minute (or at the schedule's
//! interval when shorter), for repositories whose last scheduled run is at
//! least an interval old, and starts a full run for each; a
//! compare-and-set on a repository setting makes exactly one instance start
//! it. The run itself is an ordinary `gc` job.

use super::gc::{GcMode, GcParameters, GC_KIND};
use super::Jobs;
use std::time::Duration;
use tarn_domain::Engine;
use tarn_model::jobs::JobKind;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Parses `gc.schedule`: empty (off), or a positive number and a unit
/// (`s`, `m`, `h`, `d`), e.g. `24h`.
pub fn parse_interval(text: &str) -> Result<Option<Duration>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("gc.schedule {text:?}: a number and a unit, e.g. 24h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => {
            return Err(format!(
                "gc.schedule {text:?}: the unit is s, m, h or d, e.g. 24h"
            ))
        }
    };
    if secs == 0 {
        return Err(format!(
            "gc.schedule {text:?}: the interval must be positive"
        ));
    }
    Ok(Some(Duration::from_secs(secs)))
}

/// A running schedule; [`Scheduled::stop`] ends it.
pub struct Scheduled {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Scheduled {
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Starts the schedule on the current runtime.
pub fn start(engine: Engine, jobs: Jobs, interval: Duration) -> Scheduled {
    let stop = CancellationToken::new();
    let token = stop.clone();
    let task = tokio::spawn(async move {
        let tick = interval.min(Duration::from_secs(60));
        loop {
            if let Err(e) = due_runs(&engine, &jobs, interval).await {
                tracing::warn!(error = %e, "gc schedule: cannot start runs");
            }
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(tick) => {}
            }
        }
    });
    Scheduled { stop, task }
}

/// Starts a run for every repository that is due.
async fn due_runs(engine: &Engine, jobs: &Jobs, interval: Duration) -> anyhow::Result<()> {
    let kind = JobKind::new(GC_KIND)?;
    let mut after: Option<String> = None;
    loop {
        let page = engine
            .list_repositories("", after.as_deref(), tarn_domain::MAX_AMOUNT)
            .await?;
        for repo in &page.items {
            // One repository's trouble (deleted meanwhile, a store down)
            // does not hold up the others.
            if let Err(e) = start_if_due(engine, jobs, &kind, &repo.id, interval).await {
                tracing::warn!(repository = %repo.id, error = %e, "gc schedule: no run started");
            }
        }
        if !page.has_more {
            return Ok(());
        }
        after = Some(page.next_offset.clone());
    }
}

async fn start_if_due(
    engine: &Engine,
    jobs: &Jobs,
    kind: &JobKind,
    repo: &tarn_model::RepositoryId,
    interval: Duration,
) -> anyhow::Result<()> {
    if engine.claim_scheduled_gc(repo, interval.as_secs()).await? {
        let params = GcParameters::new(repo.to_string(), GcMode::Full, jobs.gc_tuning());
        let job = jobs
            .create(kind, serde_json::to_string(&params)?, Some(repo.clone()))
            .await?;
        tracing::info!(repository = %repo, run = %job.id, "gc schedule: started a run");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_interval;
    use std::time::Duration;

    #[test]
    fn schedules_parse_or_say_why_not() {
        assert_eq!(parse_interval("").unwrap(), None);
        assert_eq!(
            parse_interval("24h").unwrap(),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            parse_interval("90m").unwrap(),
            Some(Duration::from_secs(5_400))
        );
        assert_eq!(
            parse_interval("2d").unwrap(),
            Some(Duration::from_secs(172_800))
        );
        assert_eq!(parse_interval("1s").unwrap(), Some(Duration::from_secs(1)));
        for bad in ["0s", "h", "24", "24x", "-1h", "1.5h"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
