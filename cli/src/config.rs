//! lakectl's configuration: `--config`, else `LAKECTL_CONFIG_FILE`, else
//! `~/.lakectl.yaml`; every key may be overridden by `LAKECTL_<KEY>` (the
//! key upper-cased, '.' as '_'), and the environment wins over the file.
//! An unknown key in the file is an error, as in lakectl.

use crate::error::{CliError, CliResult};
use std::path::{Path, PathBuf};
use std::time::Duration;
use yaml_serde::Value;

/// Every key lakectl knows. Keys under the prefixes below are accepted and
/// ignored (lakeFS Enterprise's IAM provider, login retries, experimental).
const KEYS: &[&str] = &[
    "credentials.access_key_id",
    "credentials.secret_access_key",
    "server.endpoint_url",
    "server.retries.enabled",
    "server.retries.max_attempts",
    "server.retries.min_wait_interval",
    "server.retries.max_wait_interval",
    "network.http2.enabled",
    "options.parallelism",
    "local.skip_non_regular_files",
    "local.symlink_support",
];
const ACCEPTED_PREFIXES: &[&str] = &[
    "credentials.provider.",
    "server.login_retries.",
    "experimental.",
];

/// The endpoint lakectl used before it dropped its default.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8000";

/// How the client retries: on 429, 500, 503 and transport errors.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    pub enabled: bool,
    /// Retries after the first attempt.
    pub max_attempts: u32,
    pub min_wait: Duration,
    pub max_wait: Duration,
}

/// The configuration in effect.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file read (or the one `tarn config` writes).
    pub file: PathBuf,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// As configured (before `/api/v1` is added).
    pub endpoint_url: String,
    pub retries: Retries,
    /// `options.parallelism`, if set.
    pub parallelism: Option<usize>,
    pub skip_non_regular_files: bool,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The file lakectl would read: `--config`, `LAKECTL_CONFIG_FILE`, `~/.lakectl.yaml`.
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_owned();
    }
    if let Some(p) = std::env::var_os("LAKECTL_CONFIG_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    home().unwrap_or_default().join(".lakectl.yaml")
}

/// The YAML document at `path` (an empty mapping when the file does not
/// exist and `required` is false).
pub fn read_document(path: &Path, required: bool) -> CliResult<Value> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(Value::Mapping(Default::default())),
        Ok(text) => yaml_serde::from_str(&text).map_err(|e| {
            CliError::Config(format!(
                "error reading configuration file {}: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok(Value::Mapping(Default::default()))
        }
        Err(e) => Err(CliError::Config(format!(
            "error reading configuration file {}: {e}",
            path.display()
        ))),
    }
}

/// Every leaf of `doc` as a dotted key.
fn leaves(doc: &Value, prefix: &str, out: &mut Vec<String>) {
    match doc {
        Value::Mapping(map) => {
            for (k, v) in map {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                let path = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(v, &path, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        _ => out.push(prefix.to_owned()),
    }
}

fn lookup<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(doc, |v, part| v.get(part))
}

/// A Go duration (`200ms`, `30s`, `1m30s`) or, as viper decodes a plain
/// number, nanoseconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    if let Ok(ns) = text.trim().parse::<u64>() {
        return Some(Duration::from_nanos(ns));
    }
    tarn_model::go_duration(text).ok()
}

struct Source {
    doc: Value,
}

impl Source {
    fn env_name(key: &str) -> String {
        format!("LAKECTL_{}", key.to_ascii_uppercase().replace('.', "_"))
    }

    /// The environment's value, else the file's, as text.
    fn get(&self, key: &str) -> Option<String> {
        if let Ok(v) = std::env::var(Self::env_name(key)) {
            return Some(v);
        }
        match lookup(&self.doc, key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn string(&self, key: &str) -> CliResult<String> {
        if std::env::var(Self::env_name(key)).is_err() {
            if let Some(v) = lookup(&self.doc, key) {
                if !matches!(v, Value::String(_) | Value::Null) {
                    return Err(CliError::Config(format!(
                        "error unmarshal configuration: '{key}' must be a string"
                    )));
                }
            }
        }
        Ok(self.get(key).unwrap_or_default())
    }

    fn bool(&self, key: &str, default: bool) -> CliResult<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "t" | "yes" => Ok(true),
                "false" | "0" | "f" | "no" => Ok(false),
                _ => Err(CliError::Config(format!(
                    "'{key}': expected true or false, got {v:?}"
                ))),
            },
        }
    }

    fn number<T: std::str::FromStr>(&self, key: &str) -> CliResult<Option<T>> {
        self.get(key)
            .map(|v| {
                v.trim().parse::<T>().map_err(|_| {
                    CliError::Config(format!("'{key}': expected a whole number, got {v:?}"))
                })
            })
            .transpose()
    }

    fn duration(&self, key: &str, default: Duration) -> CliResult<Duration> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => parse_duration(&v).ok_or_else(|| {
                CliError::Config(format!(
                    "'{key}': expected a duration such as 200ms or 30s, got {v:?}"
                ))
            }),
        }
    }
}

impl Config {
    /// Loads the configuration: `flag` is `--config` (which must exist).
    pub fn load(flag: Option<&Path>) -> CliResult<Config> {
        let file = config_path(flag);
        let doc = read_document(&file, flag.is_some())?;
        let mut keys = Vec::new();
        leaves(&doc, "", &mut keys);
        for key in &keys {
            let known = KEYS.contains(&key.as_str())
                || ACCEPTED_PREFIXES.iter().any(|p| key.starts_with(p));
            if !known {
                return Err(CliError::Config(format!(
                    "error unmarshal configuration in {}: unknown key '{key}'",
                    file.display()
                )));
            }
        }
        let src = Source { doc };
        let parallelism = src.number::<usize>("options.parallelism")?;
        if parallelism == Some(0) {
            return Err(CliError::Config(
                "Invalid value for parallelism (0), minimum is 1.".into(),
            ));
        }
        Ok(Config {
            access_key_id: src.string("credentials.access_key_id")?,
            secret_access_key: src.string("credentials.secret_access_key")?,
            endpoint_url: src.string("server.endpoint_url")?,
            retries: Retries {
                enabled: src.bool("server.retries.enabled", true)?,
                max_attempts: src.number("server.retries.max_attempts")?.unwrap_or(4),
                min_wait: src.duration(
                    "server.retries.min_wait_interval",
                    Duration::from_millis(200),
                )?,
                max_wait: src
                    .duration("server.retries.max_wait_interval", Duration::from_secs(30))?,
            },
            parallelism,
            skip_non_regular_files: src.bool("local.skip_non_regular_files", false)?,
            file,
        })
    }

    /// The API's base URL: `/api/v1` is added when the endpoint has no path.
    pub fn api_base(&self) -> String {
        let endpoint = if self.endpoint_url.is_empty() {
            DEFAULT_ENDPOINT
        } else {
            self.endpoint_url.as_str()
        };
        normalize_endpoint(endpoint)
    }

    /// Credentials, or the error that says how to set them.
    pub fn credentials(&self) -> CliResult<(String, String)> {
        if self.access_key_id.is_empty() || self.secret_access_key.is_empty() {
            return Err(CliError::Config(format!(
                "no credentials: run `tarn config` or set LAKECTL_CREDENTIALS_ACCESS_KEY_ID and LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY (configuration file: {})",
                self.file.display()
            )));
        }
        Ok((self.access_key_id.clone(), self.secret_access_key.clone()))
    }
}

/// lakectl's rule: a URL with no path (or `/`) gets `/api/v1`; any other
/// path is kept as given.
pub fn normalize_endpoint(endpoint: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("");
    if path.is_empty() || path == "/" {
        format!("{}/api/v1", endpoint.trim_end_matches('/'))
    } else {
        endpoint.trim_end_matches('/').to_owned()
    }
}

/// Sets `key` (dotted) in `doc`, creating mappings on the way.
pub fn set_key(doc: &mut Value, key: &str, value: &str) {
    let mut node = doc;
    for part in key.split('.') {
        if !matches!(node, Value::Mapping(_)) {
            *node = Value::Mapping(Default::default());
        }
        let Value::Mapping(map) = node else { return };
        node = map
            .entry(Value::String(part.to_owned()))
            .or_insert(Value::Null);
    }
    *node = Value::String(value.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_gets_api_v1_only_without_a_path() {
        assert_eq!(normalize_endpoint("http://h:8000"), "http://h:8000/api/v1");
        assert_eq!(normalize_endpoint("http://h:8000/"), "http://h:8000/api/v1");
        assert_eq!(
            normalize_endpoint("http://h:8000/api/v1"),
            "http://h:8000/api/v1"
        );
        assert_eq!(normalize_endpoint("https://h/prefix/"), "https://h/prefix");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("200ms"), Some(Duration::from_millis(200)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1000000000"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }

    #[test]
    fn set_key_builds_the_tree() {
        let mut doc = Value::Mapping(Default::default());
        set_key(&mut doc, "credentials.access_key_id", "AK");
        set_key(&mut doc, "server.endpoint_url", "http://x");
        assert_eq!(
            lookup(&doc, "credentials.access_key_id").and_then(Value::as_str),
            Some("AK")
        );
        let mut keys = Vec::new();
        leaves(&doc, "", &mut keys);
        assert_eq!(keys, ["credentials.access_key_id", "server.endpoint_url"]);
    }
}
