//! Starting and stopping the real `tarn` binary for black-box tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `tarn run --quickstart` on a free loopback port and a fresh data dir.
pub struct TarnProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// What it printed on stdout before it was ready.
    pub banner: String,
    /// Its data directory, removed on drop.
    pub data_dir: tempfile::TempDir,
}

impl TarnProcess {
    /// Starts the binary and waits until it prints the address it listens on.
    pub async fn quickstart() -> Self {
        Self::quickstart_with(&[]).await
    }

    /// Like [`Self::quickstart`], with extra environment variables.
    pub async fn quickstart_with(env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tarn"))
            .args([
                "run",
                "--quickstart",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data_dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = String::new();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                banner.push_str(&line);
                banner.push('\n');
                if let Some(url) = line.strip_prefix("Tarn listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("tarn exited before listening; it printed:\n{banner}");
        })
        .await
        .expect("tarn did not start within 30 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr = url.trim_start_matches("http://").to_owned();
        Self {
            child,
            url,
            addr,
            banner,
            data_dir,
        }
    }

    /// The dedicated gateway URL, when the banner announced one.
    pub fn gateway_url(&self) -> Option<String> {
        self.banner
            .lines()
            .find_map(|l| l.strip_prefix("Tarn S3 gateway listening on "))
            .map(|u| u.trim().to_owned())
    }

    /// Sends SIGTERM and waits for the exit.
    pub async fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("tarn did not stop within 30 s of SIGTERM")
            .unwrap()
    }
}
