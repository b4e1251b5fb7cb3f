//! The `tarn` command line as a user runs it: configured by lakectl's
//! environment variables against a running server, in a home directory of
//! its own (so no real `~/.lakectl.yaml` is read).

use super::{TarnProcess, KEY, SECRET};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// What a command did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts exit 0; the output.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success:\n{self}");
        self
    }

    /// Asserts exit `code`; the output.
    pub fn fails(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}:\n{self}");
        self
    }

    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The command line, pointed at one server.
pub struct Cli {
    pub home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    /// A quickstart server, a command line configured for it, and
    /// repository `name` created on it through the command line.
    pub async fn quickstart_with_repo(name: &str) -> (TarnProcess, Self) {
        let tarn = TarnProcess::quickstart().await;
        let cli = Self::for_server(&tarn);
        let repo = format!("lakefs://{name}");
        cli.run(&["repo", "create", &repo, &super::namespace(name)])
            .await
            .ok();
        (tarn, cli)
    }

    /// Configured for `tarn` with the quickstart credentials.
    pub fn for_server(tarn: &TarnProcess) -> Self {
        Self::with_env(vec![
            ("LAKECTL_SERVER_ENDPOINT_URL".into(), tarn.url.clone()),
            ("LAKECTL_CREDENTIALS_ACCESS_KEY_ID".into(), KEY.into()),
            (
                "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY".into(),
                SECRET.into(),
            ),
        ])
    }

    /// With exactly this environment (besides HOME and PATH).
    pub fn with_env(env: Vec<(String, String)>) -> Self {
        Cli {
            home: tempfile::tempdir().unwrap(),
            env,
        }
    }

    pub fn home(&self) -> PathBuf {
        self.home.path().to_owned()
    }

    /// A command to run the binary (as `program`, e.g. a `lakectl` link).
    pub fn command(&self, program: &Path, args: &[&str], cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `tarn <args>` in the home directory.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.home.path(), args, "").await
    }

    /// Runs `tarn <args>` in `cwd` with `stdin`.
    pub async fn run_in(&self, cwd: &Path, args: &[&str], stdin: &str) -> Output {
        self.run_as(Path::new(env!("CARGO_BIN_EXE_tarn")), cwd, args, stdin)
            .await
    }

    pub async fn run_as(&self, program: &Path, cwd: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = self.command(program, args, cwd).spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let out = child.wait_with_output().await.unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `tarn fs upload` of `text` (through a file in the home directory)
    /// to `uri`, which must succeed.
    pub async fn upload_text(&self, text: &str, uri: &str) {
        let f = self.home.path().join(".upload-text");
        std::fs::write(&f, text).unwrap();
        self.run(&["fs", "upload", "-s", f.to_str().unwrap(), uri])
            .await
            .ok();
    }

    /// `tarn -o json <args>`, which must succeed; its JSON.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        self.run(&all).await.ok().json()
    }
}
