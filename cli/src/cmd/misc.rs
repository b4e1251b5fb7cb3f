//! `config`, `doctor`, `identity` and `completion`.

use crate::client::Client;
use crate::config::{self, Config};
use crate::error::{failed, CliError, CliResult};
use crate::output::{date, n, s, Paint};
use crate::Ctx;
use clap::Args;
use std::io::{BufRead, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// The access key id (asked for when not given).
    #[arg(long)]
    access_key_id: Option<String>,
    /// The secret access key (asked for when not given).
    #[arg(long)]
    secret_access_key: Option<String>,
    /// The server's URL, e.g. http://127.0.0.1:8000 (asked for when not given).
    #[arg(long)]
    endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionArgs {
    /// The shell.
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    shell: String,
}

fn ask(question: &str, current: &str, secret: bool) -> CliResult<String> {
    let shown = if secret && !current.is_empty() {
        "****".to_owned()
    } else {
        current.to_owned()
    };
    if shown.is_empty() {
        eprint!("{question}: ");
    } else {
        eprint!("{question} [{shown}]: ");
    }
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::io("read the answer", e))?;
    if read == 0 && current.is_empty() {
        return failed(format!(
            "no answer for {question:?} (pass it as a flag, see `tarn config --help`)"
        ));
    }
    let answer = line.trim();
    Ok(if answer.is_empty() {
        current.to_owned()
    } else {
        answer.to_owned()
    })
}

pub(crate) fn config(ctx: &Ctx, a: ConfigArgs) -> CliResult<()> {
    let path = config::config_path(ctx.config_flag.as_deref());
    eprintln!("Config file {} will be used", path.display());
    let mut doc = config::read_document(&path, false)?;
    let current = |key: &str| {
        key.split('.')
            .try_fold(&doc, |v, k| v.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let key = match a.access_key_id {
        Some(k) => k,
        None => ask(
            "Access key ID",
            &current("credentials.access_key_id"),
            false,
        )?,
    };
    let secret = match a.secret_access_key {
        Some(k) => k,
        None => ask(
            "Secret access key",
            &current("credentials.secret_access_key"),
            true,
        )?,
    };
    let endpoint = match a.endpoint_url {
        Some(k) => k,
        None => ask(
            "Server endpoint URL (e.g. http://localhost:8000)",
            &current("server.endpoint_url"),
            false,
        )?,
    };
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(CliError::Usage(format!(
            "server endpoint URL {endpoint:?} must start with http:// or https://"
        )));
    }
    config::set_key(&mut doc, "credentials.access_key_id", &key);
    config::set_key(&mut doc, "credentials.secret_access_key", &secret);
    config::set_key(&mut doc, "server.endpoint_url", &endpoint);
    let text = yaml_serde::to_string(&doc)
        .map_err(|e| CliError::Failed(format!("cannot write YAML: {e}")))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::io(format!("create {}", dir.display()), e))?;
    }
    write_private(&path, text.as_bytes())?;
    ctx.out
        .line(format!("Configuration written to {}", path.display()));
    Ok(())
}

/// Writes a file only its owner can read (it holds a secret).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> CliResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| CliError::io(format!("write {}", path.display()), e))?;
    // An existing file keeps its mode on open: make it owner-only too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| CliError::io(format!("restrict {}", path.display()), e))?;
    }
    file.write_all(bytes)
        .map_err(|e| CliError::io(format!("write {}", path.display()), e))
}

pub(crate) fn completion(ctx: &Ctx, a: CompletionArgs) -> CliResult<()> {
    let shell = match a.shell.as_str() {
        "bash" => clap_complete::Shell::Bash,
        "zsh" => clap_complete::Shell::Zsh,
        _ => clap_complete::Shell::Fish,
    };
    let mut command = crate::command().name(ctx.name);
    clap_complete::generate(shell, &mut command, ctx.name, &mut std::io::stdout());
    Ok(())
}

pub(crate) async fn identity(ctx: &Ctx) -> CliResult<()> {
    let me = ctx.client()?.get("/user").value().await?;
    let u = &me["user"];
    if ctx.out.json {
        ctx.out.json(u);
    } else {
        ctx.out.line(format!(
            "User ID:          {}\nEmail:            {}\nCreation Date:    {}",
            s(u, "id"),
            s(u, "email"),
            date(n(u, "creation_date"))
        ));
    }
    Ok(())
}

/// One line of the doctor's report.
struct Report<'a> {
    ctx: &'a Ctx,
    problems: usize,
}

impl Report<'_> {
    fn ok(&self, what: &str) {
        self.ctx.out.line(format!(
            "{} {what}",
            self.ctx.out.paint("ok     ", Paint::Green)
        ));
    }
    fn warn(&self, what: &str) {
        self.ctx.out.line(format!(
            "{} {what}",
            self.ctx.out.paint("warning", Paint::Yellow)
        ));
    }
    fn problem(&mut self, what: &str) {
        self.problems += 1;
        self.ctx.out.line(format!(
            "{} {what}",
            self.ctx.out.paint("problem", Paint::Red)
        ));
    }
}

/// Seconds between the server's `Date` header and this machine's clock.
fn skew(response: &reqwest::Response) -> Option<i64> {
    let text = response.headers().get("date")?.to_str().ok()?;
    let server =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822).ok()?;
    let local = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(local - server.unix_timestamp())
}

pub(crate) async fn doctor(ctx: &Ctx) -> CliResult<()> {
    let mut r = Report { ctx, problems: 0 };
    let cfg = match ctx.config() {
        Ok(c) => c,
        Err(e) => {
            r.problem(&format!(
                "{e}\n        It looks like you have a problem with your configuration file."
            ));
            return failed("1 problem found");
        }
    };
    let exists = cfg.file.exists();
    if exists {
        r.ok(&format!("configuration file {}", cfg.file.display()));
    } else {
        r.warn(&format!(
            "no configuration file at {} (run `tarn config`); using the environment",
            cfg.file.display()
        ));
    }
    if cfg.endpoint_url.is_empty() {
        r.warn(&format!(
            "server.endpoint_url is not set: using {}",
            config::DEFAULT_ENDPOINT
        ));
    }
    let base = cfg.api_base();
    if !base.ends_with("/api/v1") {
        r.warn(&format!("Suspicious URI format for server.endpoint_url: {base} (lakeFS servers answer under /api/v1)"));
    }
    check_server(&mut r, cfg, &base).await;
    if r.problems > 0 {
        return failed(format!("{} problem(s) found", r.problems));
    }
    ctx.out
        .line(ctx.out.paint("Valid configuration", Paint::Green));
    Ok(())
}

async fn check_server(r: &mut Report<'_>, cfg: &Config, base: &str) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(h) => h,
        Err(e) => return r.problem(&format!("cannot build an HTTP client: {e}")),
    };
    let health = match http.get(format!("{base}/healthcheck")).send().await {
        Ok(resp) => resp,
        Err(e) => {
            let mut cause = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                cause = format!("{cause}: {s}");
                src = s.source();
            }
            let lower = cause.to_lowercase();
            // Over https, a connection that got somewhere and then failed
            // failed in TLS (an untrusted certificate, a plain HTTP port).
            let reached = !["refused", "timed out", "dns error", "lookup", "unreachable"]
                .iter()
                .any(|w| lower.contains(w));
            if base.starts_with("https://") && reached {
                return r.problem(&format!(
                    "TLS to {base} failed: {cause}\n        Either the server's certificate is not trusted here (install its CA in the system's trust store) or it does not speak TLS there (use http:// in server.endpoint_url)."
                ));
            }
            return r.problem(&format!(
                "cannot reach {base}: {cause}\n        It looks like endpoint url is wrong, or the server is not running."
            ));
        }
    };
    if base.starts_with("https://") {
        r.ok("TLS certificate trusted");
    }
    let html = health
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !health.status().is_success() || html {
        return r.problem(&format!(
            "{base}/healthcheck answered {}{}: this is not a lakeFS API. It looks like endpoint url is wrong (it should be the server's address, e.g. http://127.0.0.1:8000).",
            health.status(),
            if html { " with a web page" } else { "" }
        ));
    }
    r.ok(&format!("server reachable at {base}"));
    match skew(&health) {
        Some(s) if s.abs() > 300 => r.problem(&format!(
            "this machine's clock is {}s {} the server's: signed S3 requests and presigned URLs fail beyond 15 minutes. Sync the clock (NTP).",
            s.abs(),
            if s > 0 { "ahead of" } else { "behind" }
        )),
        Some(s) if s.abs() > 30 => r.warn(&format!("clock skew of {s}s with the server")),
        Some(_) => r.ok("clock in sync with the server"),
        None => r.warn("the server sent no Date header: clock skew not checked"),
    }
    let (key, secret) = match cfg.credentials() {
        Ok(c) => c,
        Err(e) => return r.problem(&e.to_string()),
    };
    let client = match Client::new(cfg) {
        Ok(c) => c,
        Err(e) => return r.problem(&e.to_string()),
    };
    match client.get("/user").value().await {
        Ok(me) => r.ok(&format!("credentials valid: user {}", s(&me["user"], "id"))),
        Err(CliError::Api { status, message }) if status.as_u16() == 401 => r.problem(&format!(
            "the server refused the credentials ({message}): It seems like the `access_key_id` or `secret_access_key` you supplied are wrong. Run `tarn config` to set them."
        )),
        Err(e) => r.problem(&format!("GET /user failed: {e}")),
    }
    if !(key.len() == 20 && key.starts_with("AKIA")) {
        r.warn(&format!("access_key_id value looks suspicious: {key} (keys look like AKIA followed by 16 characters)"));
    }
    if secret.len() != 40 {
        r.warn("secret_access_key value looks suspicious: secrets are 40 characters long");
    }
}
