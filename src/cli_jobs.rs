//! What the commands that start jobs share (`tarn gc run`, `tarn import`):
//! a runner of the command's own job kinds beside any servers (whichever
//! instance claims the job runs it), a progress line until the job ends,
//! and Ctrl-C to ask it to stop.

use crate::settings::Settings;
use crate::startup;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::time::Duration;
use tarn_domain::Engine;
use tarn_model::jobs::{Job, JobId};
use tarn_ports::JobStore;

/// Runs job `id` to its end (on this process's runner or another
/// instance's) and returns it as it ended.
pub async fn follow(
    settings: &Settings,
    store: Arc<dyn JobStore>,
    engine: Engine,
    id: &JobId,
) -> anyhow::Result<Job> {
    let runner = startup::job_runner(
        settings,
        store.clone(),
        engine.clone(),
        startup::RunnerKinds::Command,
    )?
    .start();
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut cancel_sent = false;
    let finished = loop {
        let current = store.get(id).await?;
        if current.state.is_final() {
            break current;
        }
        let total = current
            .progress
            .total
            .map_or(String::new(), |t| format!(" of {t}"));
        bar.set_message(format!(
            "{} {}: {}{total}",
            current.state, current.progress.message, current.progress.done
        ));
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = tokio::signal::ctrl_c(), if !cancel_sent => {
                bar.println("stopping: asked the job to cancel");
                store.request_cancel(id, engine.now()).await?;
                cancel_sent = true;
            }
        }
    };
    bar.finish_and_clear();
    runner.stop().await;
    Ok(finished)
}
