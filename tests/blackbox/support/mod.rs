//! Starting and stopping the real `tarn` binary for black-box tests.

pub mod api;
pub mod cli;
pub mod rbac;
pub mod rbac_cases;
mod rbac_cases_writes;
pub mod receiver;
pub mod tar;

use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The quickstart access key id.
pub const KEY: &str = "AKIAIOSFOLQUICKSTART";
/// The quickstart secret.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// An AWS SDK S3 client for the gateway at `url` (path style, plain HTTP).
pub fn s3_client(url: &str, secret: &str) -> aws_sdk_s3::Client {
    s3_client_as(url, KEY, secret)
}

/// [`s3_client`] with the access key `key`.
pub fn s3_client_as(url: &str, key: &str, secret: &str) -> aws_sdk_s3::Client {
    let creds = aws_credential_types::Credentials::new(key, secret, None, None, "tests");
    let conf = aws_sdk_s3::Config::builder()
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .credentials_provider(creds)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Calls the API at `{url}/api/v1{path}` as the quickstart user; the status
/// and the body as JSON (or as a JSON string when it is not JSON).
pub async fn api_json(
    http: &reqwest::Client,
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    api_json_as(http, url, Some((KEY, SECRET)), method, path, body).await
}

/// Like [`api_json`], with the key pair `key` (or anonymously).
pub async fn api_json_as(
    http: &reqwest::Client,
    url: &str,
    key: Option<(&str, &str)>,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let mut r = http.request(method, format!("{url}/api/v1{path}"));
    if let Some((id, secret)) = key {
        r = r.basic_auth(id, Some(secret));
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// The backend a run of the black-box binary is on, from `TARN_TEST_DATABASE`
/// (`memory`, the default; `sqlite`; `postgres`) and `TARN_TEST_BLOCKSTORE`
/// (`local`, the default; `s3`). `make test` runs the binary on memory, on
/// PostgreSQL, on PostgreSQL + S3 and on SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// `memory`, `sqlite` or `postgres`.
    pub database: &'static str,
    /// Whether objects go to the test S3 server.
    pub s3: bool,
}

impl Run {
    /// The default run: memory and a local directory.
    pub const DEFAULT: Run = Run {
        database: "memory",
        s3: false,
    };
    /// The PostgreSQL run (objects in a local directory).
    pub const POSTGRES: Run = Run {
        database: "postgres",
        s3: false,
    };

    /// The SQLite run.
    pub const SQLITE: Run = Run {
        database: "sqlite",
        s3: false,
    };

    /// This process's run.
    pub fn current() -> Run {
        let database = match std::env::var("TARN_TEST_DATABASE").as_deref() {
            Ok("postgres") => "postgres",
            Ok("sqlite") => "sqlite",
            Ok("memory") | Err(_) => "memory",
            Ok(other) => panic!("TARN_TEST_DATABASE={other}: expected memory, sqlite or postgres"),
        };
        let s3 = std::env::var("TARN_TEST_BLOCKSTORE").as_deref() == Ok("s3");
        Run { database, s3 }
    }

    /// For a test that only makes sense on some runs: whether this run is
    /// one of `runs`; if not, prints that the calling test skips and `why`.
    /// The output bypasses the test harness's capture, so it shows.
    pub fn skip_unless(runs: &[Run], why: &str) -> bool {
        let run = Run::current();
        if runs.contains(&run) {
            return false;
        }
        use std::io::Write;
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        let _ = writeln!(std::io::stderr(), "skipped {test} on {run}: {why}");
        true
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let blocks = if self.s3 { "s3" } else { "local" };
        write!(f, "the {} + {blocks} run", self.database)
    }
}

/// Which metadata backend black-box tests run on: `TARN_TEST_DATABASE` =
/// `memory` (the default), `sqlite`, or `postgres` (a fresh database on the
/// server of `TARN_TEST_POSTGRES_URL`, which `make test` starts).
pub async fn database_env() -> Vec<(String, String)> {
    let kind = std::env::var("TARN_TEST_DATABASE").unwrap_or_else(|_| "memory".to_owned());
    let mut env = vec![("TARN_DATABASE__TYPE".to_owned(), kind.clone())];
    if kind == "postgres" {
        env.push((
            "TARN_DATABASE__POSTGRES__CONNECTION_STRING".to_owned(),
            fresh_postgres().await,
        ));
    }
    env
}

/// Which block store black-box tests run on: `TARN_TEST_BLOCKSTORE` =
/// `local` (the default) or `s3` (the server that `TARN_TEST_S3_*` name,
/// which `make test` starts with scripts/with-s3.sh).
pub fn blockstore_env() -> Vec<(String, String)> {
    let Some((s3, _)) = test_s3() else {
        return Vec::new();
    };
    let var = |k: &str, v: Option<&String>| (k.to_owned(), v.cloned().unwrap_or_default());
    vec![
        ("TARN_BLOCKSTORE__TYPE".to_owned(), "s3".to_owned()),
        var("TARN_BLOCKSTORE__S3__ENDPOINT", s3.endpoint.as_ref()),
        (
            "TARN_BLOCKSTORE__S3__FORCE_PATH_STYLE".to_owned(),
            "true".to_owned(),
        ),
        var(
            "TARN_BLOCKSTORE__S3__CREDENTIALS__ACCESS_KEY_ID",
            s3.access_key_id.as_ref(),
        ),
        var(
            "TARN_BLOCKSTORE__S3__CREDENTIALS__SECRET_ACCESS_KEY",
            s3.secret_access_key.as_ref(),
        ),
    ]
}

/// The test S3 server and bucket, when the black-box tests run on S3.
pub fn test_s3() -> Option<(tarn_adapter_s3::S3Settings, String)> {
    match std::env::var("TARN_TEST_BLOCKSTORE").as_deref() {
        Ok("s3") => Some(tarn_adapter_s3::testing::require_test_server()),
        _ => None,
    }
}

/// A storage namespace for a new repository `name` on the block store the
/// tests run on: `local://name`, or a fresh prefix of the S3 test bucket.
pub fn namespace(name: &str) -> String {
    match test_s3() {
        Some((_, bucket)) => format!(
            "s3://{bucket}/{}/{name}",
            tarn_adapter_s3::testing::unique_prefix("blackbox")
        ),
        None => format!("local://{name}"),
    }
}

/// Creates repository `name` (default branch `main`) on the namespace
/// [`namespace`] gives, through the API.
pub async fn create_repository(tarn: &TarnProcess, name: &str) {
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/repositories", tarn.url))
        .basic_auth(KEY, Some(SECRET))
        .json(&serde_json::json!({"name": name, "storage_namespace": namespace(name)}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
}

/// A new, empty database on the test PostgreSQL server.
pub async fn fresh_postgres() -> String {
    let url = tarn_adapter_sql::testing::postgres_url()
        .expect("TARN_TEST_POSTGRES_URL is not set: run `make test` or scripts/with-postgres.sh");
    tarn_adapter_sql::testing::fresh_postgres_database(&url)
        .await
        .unwrap()
}

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

    /// Like [`Self::quickstart`], with extra environment variables (applied
    /// after those that choose the database).
    pub async fn quickstart_with(env: &[(&str, &str)]) -> Self {
        let mut all = database_env().await;
        all.extend(blockstore_env());
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Self::start(tempfile::tempdir().unwrap(), &all).await
    }

    /// Starts `tarn run --quickstart` on `data_dir` with exactly `env` added
    /// (no database choice of its own: quickstart's SQLite unless `env` says).
    pub async fn start(data_dir: tempfile::TempDir, env: &[(String, String)]) -> Self {
        Self::start_with_stderr(data_dir, env, Stdio::inherit()).await
    }

    /// Like [`Self::start`], with the server's log (stderr) going to `log`.
    pub async fn start_logged(
        data_dir: tempfile::TempDir,
        env: &[(String, String)],
        log: &std::path::Path,
    ) -> Self {
        let file = std::fs::File::create(log).unwrap();
        Self::start_with_stderr(data_dir, env, Stdio::from(file)).await
    }

    async fn start_with_stderr(
        data_dir: tempfile::TempDir,
        env: &[(String, String)],
        stderr: Stdio,
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tarn"));
        command.args([
            "run",
            "--quickstart",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ]);
        command.arg(data_dir.path());
        // TARN_TEST_CONFIG: a configuration file (relative to the repository)
        // under the environment the tests set, e.g. the production example.
        if let Ok(file) = std::env::var("TARN_TEST_CONFIG") {
            command
                .arg("--config")
                .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file));
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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

    /// Kills the process outright (SIGKILL: no shutdown, no flush) and
    /// waits for it to be gone.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
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

/// Runs `tarn <args> --data-dir <dir>` with `stdin` and `env` added (and no
/// secret key from the environment unless `env` gives one); whether it
/// succeeded, its stdout and its stderr.
pub async fn run_cli(
    args: &[&str],
    dir: &std::path::Path,
    stdin: &str,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("TARN_AUTH__ENCRYPT__SECRET_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `n` instances of `tarn` on one fresh PostgreSQL database and one local
/// block store directory, with `extra` environment besides; the processes
/// and the store directory (both removed on drop).
pub async fn instances_sharing_postgres(
    n: usize,
    extra: &[(&str, &str)],
) -> (Vec<TarnProcess>, tempfile::TempDir) {
    let db = fresh_postgres().await;
    let blocks = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("TARN_DATABASE__TYPE".to_owned(), "postgres".to_owned()),
        ("TARN_DATABASE__POSTGRES__CONNECTION_STRING".to_owned(), db),
        (
            "TARN_BLOCKSTORE__LOCAL__PATH".to_owned(),
            blocks.path().display().to_string(),
        ),
    ];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut processes = Vec::new();
    for _ in 0..n {
        processes.push(TarnProcess::start(tempfile::tempdir().unwrap(), &env).await);
    }
    (processes, blocks)
}
