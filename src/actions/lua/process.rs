//! Lua hooks run in a child process: `tarn lua-hook`, this same binary,
//! with an empty environment (no setting or secret of the server's), its
//! own memory and CPU limits (`setrlimit`), reading its job as JSON on
//! stdin and answering its outcome as JSON on stdout. Whatever a script
//! does (a C library call that loops, a blow-up outside Lua's allocator),
//! the server loses at most the child: it is killed at the deadline, and
//! the system stops it at its memory limit. The in-process limits (memory,
//! instructions, time) still apply inside it and give the precise errors.

use super::{LuaRun, MAX_LOG};
use crate::settings::LuaSettings;
use serde::{Deserialize, Serialize};
use std::process::{ExitCode, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the child is given.
#[derive(Serialize, Deserialize)]
struct Job {
    run: LuaRun,
    settings: LuaSettings,
}

/// What the child answers.
#[derive(Serialize, Deserialize)]
struct Outcome {
    error: Option<String>,
    log: String,
}

/// Memory the child may use besides its Lua state: the runtime, the HTTP
/// client, the library's work.
const CHILD_OVERHEAD: u64 = 512 << 20;
/// The most of a child's answer read: its log and its error.
const MAX_ANSWER: u64 = (MAX_LOG as u64) * 4 + (64 << 10);
/// The longest job read by a child (the script, its arguments, the event).
const MAX_JOB: u64 = 16 << 20;

/// Runs a script in a child process: its outcome and its log.
pub async fn run_isolated(run: LuaRun, settings: &LuaSettings) -> (Result<(), String>, String) {
    match isolated(run, settings).await {
        Ok(out) => out,
        Err(e) => (Err(e), String::new()),
    }
}

async fn isolated(
    run: LuaRun,
    settings: &LuaSettings,
) -> Result<(Result<(), String>, String), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot start the Lua hook: {e}"))?;
    let job = serde_json::to_vec(&Job {
        run,
        settings: settings.clone(),
    })
    .map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(exe)
        .arg("lua-hook")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the Lua hook: {e}"))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("cannot talk to the Lua hook's process".to_owned());
    };
    let timeout = Duration::from_secs(settings.timeout_secs.max(1)) + Duration::from_secs(5);
    let talk = async {
        stdin.write_all(&job).await?;
        drop(stdin);
        let mut answer = Vec::new();
        stdout.take(MAX_ANSWER).read_to_end(&mut answer).await?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((answer, status))
    };
    let (answer, status) = match tokio::time::timeout(timeout, talk).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(format!("the Lua hook's process failed: {e}")),
        Err(_) => {
            // Dropping the child kills it (kill_on_drop).
            return Ok((
                Err(format!(
                    "the Lua hook ran out of time ({}s, actions.lua.timeout_secs)",
                    settings.timeout_secs
                )),
                String::new(),
            ));
        }
    };
    match serde_json::from_slice::<Outcome>(&answer) {
        Ok(o) => Ok((o.error.map_or(Ok(()), Err), o.log)),
        // Killed by the system: past its memory or CPU limit.
        Err(_) => Ok((
            Err(format!(
                "the Lua hook's process was stopped ({status}): past its memory limit \
                 (actions.lua.memory_bytes) or its CPU time (actions.lua.timeout_secs)"
            )),
            String::new(),
        )),
    }
}

/// `tarn lua-hook`: the child's side.
pub fn child_main() -> ExitCode {
    use std::io::{Read, Write};
    let mut input = Vec::new();
    if std::io::stdin()
        .take(MAX_JOB)
        .read_to_end(&mut input)
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    let Ok(job) = serde_json::from_slice::<Job>(&input) else {
        return ExitCode::FAILURE;
    };
    drop(input);
    let memory = job.settings.memory_bytes.saturating_add(CHILD_OVERHEAD);
    let cpu = job.settings.timeout_secs.saturating_add(2);
    // The limits hold for this process from here on; failing to set them
    // is failing the hook.
    if rlimit::setrlimit(rlimit::Resource::DATA, memory, memory).is_err()
        || rlimit::setrlimit(rlimit::Resource::CPU, cpu, cpu).is_err()
    {
        return answer(&Outcome {
            error: Some("cannot limit the Lua hook's process".to_owned()),
            log: String::new(),
        });
    }
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let (result, log) = rt.block_on(super::run(job.run, &job.settings));
    let code = answer(&Outcome {
        error: result.err(),
        log,
    });
    // Whatever a script left running in the runtime goes with the process.
    rt.shutdown_background();
    let _ = std::io::stdout().flush();
    code
}

fn answer(outcome: &Outcome) -> ExitCode {
    use std::io::Write;
    match serde_json::to_writer(std::io::stdout().lock(), outcome) {
        Ok(()) => {
            let _ = std::io::stdout().flush();
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::FAILURE,
    }
}
