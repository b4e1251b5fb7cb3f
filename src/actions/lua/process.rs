//! Lua hooks run in a child process: `tarn lua-hook`, this same binary,
//! with an empty environment (no setting or secret of the server's), its
//! own memory and CPU limits (`setrlimit`), reading its job as JSON on
//! stdin and answering its outcome as JSON on stdout. Whatever a script
//! does (a C library call that loops, a blow-up outside Lua's allocator),
//! the server loses at most the child: it is killed at the deadline, and
//! the system stops it at its memory limit. The in-process limits (memory,
//! instructions, time) still apply inside it and give the precise errors.
//!
//! Starting a process is most of a hook run's cost, so a [`ChildPool`]
//! keeps a couple started and waiting for their job (each still runs one
//! job only), and the answer is read up to its newline without waiting for
//! the child to exit.

use super::{LuaRun, MAX_LOG};
use crate::settings::LuaSettings;
use serde::{Deserialize, Serialize};
use std::process::{ExitCode, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;

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

/// Children started ahead, waiting for a job.
pub struct ChildPool {
    ready: Mutex<Vec<Child>>,
}

/// How many children wait ready.
const READY: usize = 2;

fn spawn_child() -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot start the Lua hook: {e}"))?;
    tokio::process::Command::new(exe)
        .arg("lua-hook")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the Lua hook: {e}"))
}

impl ChildPool {
    pub fn new() -> Self {
        Self {
            ready: Mutex::new(Vec::new()),
        }
    }

    /// A started child (one waiting, else a new one); the pool is filled
    /// up again.
    fn take(&self) -> Result<Child, String> {
        let waiting = self.ready.lock().ok().and_then(|mut r| r.pop());
        let child = match waiting {
            Some(c) => c,
            None => spawn_child()?,
        };
        if let Ok(mut ready) = self.ready.lock() {
            while ready.len() < READY {
                match spawn_child() {
                    Ok(c) => ready.push(c),
                    Err(_) => break,
                }
            }
        }
        Ok(child)
    }

    /// Runs a script in a child process: its outcome and its log.
    pub async fn run(&self, run: LuaRun, settings: &LuaSettings) -> (Result<(), String>, String) {
        let job = match serde_json::to_vec(&Job {
            run,
            settings: settings.clone(),
        }) {
            Ok(j) => j,
            Err(e) => return (Err(e.to_string()), String::new()),
        };
        // A waiting child may have gone (killed from outside): one more
        // try with a new one.
        let mut last = String::new();
        for _ in 0..2 {
            match self.take() {
                Ok(child) => match isolated(child, &job, settings).await {
                    Ok(out) => return out,
                    Err(e) => last = e,
                },
                Err(e) => return (Err(e), String::new()),
            }
        }
        (Err(last), String::new())
    }
}

impl Default for ChildPool {
    fn default() -> Self {
        Self::new()
    }
}

async fn isolated(
    mut child: Child,
    job: &[u8],
    settings: &LuaSettings,
) -> Result<(Result<(), String>, String), String> {
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("cannot talk to the Lua hook's process".to_owned());
    };
    let timeout = Duration::from_secs(settings.timeout_secs.max(1)) + Duration::from_secs(5);
    let talk = async {
        stdin.write_all(job).await?;
        drop(stdin);
        // The answer is one line; the child's exit is not waited for.
        let mut answer = Vec::new();
        tokio::io::BufReader::new(stdout.take(MAX_ANSWER))
            .read_until(b'\n', &mut answer)
            .await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = match tokio::time::timeout(timeout, talk).await {
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
    let parsed = serde_json::from_slice::<Outcome>(&answer);
    // Reaped in the background (it exits once it has answered; one that
    // does not is killed at once).
    tokio::spawn(async move {
        if parsed_ok_wait(&mut child).await.is_err() {
            let _ = child.kill().await;
        }
    });
    match parsed {
        Ok(o) => Ok((o.error.map_or(Ok(()), Err), o.log)),
        // Killed by the system: past its memory or CPU limit.
        Err(_) => Ok((
            Err("the Lua hook's process was stopped: past its memory limit \
                 (actions.lua.memory_bytes) or its CPU time (actions.lua.timeout_secs)"
                .to_owned()),
            String::new(),
        )),
    }
}

/// Waits a few seconds for a child that has answered to exit.
async fn parsed_ok_wait(child: &mut Child) -> Result<(), ()> {
    match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
        Ok(Ok(_)) => Ok(()),
        _ => Err(()),
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
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, outcome)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
    match written {
        Ok(()) => {
            let _ = out.flush();
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::FAILURE,
    }
}
