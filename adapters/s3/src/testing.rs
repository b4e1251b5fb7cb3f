//! Helpers for tests and benchmarks that need an S3 server: `make test`
//! starts one on loopback (scripts/with-s3.sh) and names it in these
//! variables.

use crate::S3Settings;
use std::sync::atomic::{AtomicU64, Ordering};

/// The endpoint URL of the test server.
pub const ENDPOINT_VAR: &str = "TARN_TEST_S3_ENDPOINT";
/// A bucket on it that tests may write to.
pub const BUCKET_VAR: &str = "TARN_TEST_S3_BUCKET";
/// Its access key id.
pub const ACCESS_KEY_VAR: &str = "TARN_TEST_S3_ACCESS_KEY_ID";
/// Its secret access key.
pub const SECRET_KEY_VAR: &str = "TARN_TEST_S3_SECRET_ACCESS_KEY";

/// The test server, if one is configured: settings to reach it and a bucket.
pub fn test_server() -> Option<(S3Settings, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let settings = S3Settings {
        endpoint: Some(var(ENDPOINT_VAR)?),
        region: "us-east-1".into(),
        force_path_style: true,
        access_key_id: var(ACCESS_KEY_VAR),
        secret_access_key: var(SECRET_KEY_VAR),
        ..S3Settings::default()
    };
    Some((settings, var(BUCKET_VAR)?))
}

/// The test server; without one, `None` after saying the calling test
/// skips (or a panic under `make test`: see
/// [`tarn_ports::testkit::skip_without_server`]).
pub fn test_server_or_skip() -> Option<(S3Settings, String)> {
    let server = test_server();
    if server.is_none() {
        tarn_ports::testkit::skip_without_server(&format!(
            "{ENDPOINT_VAR} is not set; run `make test`, or scripts/with-s3.sh cargo test"
        ));
    }
    server
}

/// The test server, or a panic that says how to start one.
pub fn require_test_server() -> (S3Settings, String) {
    test_server().unwrap_or_else(|| {
        panic!("{ENDPOINT_VAR} is not set: run `make test`, or scripts/with-s3.sh cargo test")
    })
}

/// A prefix no other test (of this or another process) uses.
pub fn unique_prefix(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{label}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
