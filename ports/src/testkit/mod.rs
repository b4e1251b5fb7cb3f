//! Conformance suites: every adapter of a port runs the same cases against its
//! own factory, through the macros below, so that one contract is proven for
//! all of them.
//!
//! ```ignore
//! async fn fixture() -> tarn_ports::testkit::BlockFixture { ... }
//! tarn_ports::block_store_conformance!(fixture);
//! ```
//!
//! Each case is one `#[tokio::test]` (multi-threaded, so races are real) named
//! after the property it checks. Cases panic with a message on failure. A
//! factory that needs a server may return `Option<Fixture>`: `None` (after
//! [`skip_without_server`]) skips the case.

pub mod auth;
pub mod block;
pub mod ids;
pub mod jobs;
pub mod multipart;
pub mod refs;
pub mod runs;
pub mod staging;

pub use auth::AuthFixture;
pub use block::BlockFixture;
pub use jobs::JobFixture;
pub use multipart::MultipartFixture;
pub use refs::RefFixture;
pub use runs::RunFixture;
pub use staging::StagingFixture;

use std::collections::BTreeMap;
use tarn_model::{BlockKey, Entry, PhysicalAddress, Timestamp};

/// A sample committed-style entry, distinct for each `n`.
pub fn sample_entry(n: u64) -> Entry {
    let mut metadata = BTreeMap::new();
    metadata.insert("n".to_owned(), n.to_string());
    Entry {
        address: PhysicalAddress::Relative(
            BlockKey::new(format!("data/p/{n:08}")).unwrap_or_else(|e| panic!("{e}")),
        ),
        size: n,
        checksum: format!("{n:032x}"),
        last_modified: Timestamp::from_unix_seconds(1_700_000_000 + n as i64),
        content_type: n.is_multiple_of(2).then(|| "text/plain".to_owned()),
        metadata,
        // Every third entry is tagged, so suites round-trip tags too.
        tags: if n.is_multiple_of(3) {
            BTreeMap::from([("tier".to_owned(), format!("t{n}"))])
        } else {
            BTreeMap::new()
        },
    }
}

/// Paths that stress escaping in every backend: unicode, spaces, `%`, `+`,
/// SQL `LIKE` wildcards, `..` segments, empty segments and a 1,024-byte name.
pub fn awkward_names() -> Vec<String> {
    vec![
        "plain.txt".to_owned(),
        "with space/file name.csv".to_owned(),
        "percent%20sign%".to_owned(),
        "plus+sign+".to_owned(),
        "under_score_%_like".to_owned(),
        "unicode/日本語/ファイル✓.txt".to_owned(),
        "emoji/🦀.rs".to_owned(),
        "../dotdot".to_owned(),
        "a/../b".to_owned(),
        "./dot/./x".to_owned(),
        "..".to_owned(),
        "trailing/".to_owned(),
        "double//slash".to_owned(),
        "back\\slash".to_owned(),
        "quote\"and'apostrophe".to_owned(),
        "l".repeat(1024),
        format!("{}/end", "s/".repeat(500)),
    ]
}

/// The variable that turns a missing test server into a failure: `make test`
/// sets it, so that a suite that cannot find its server fails there, while a
/// developer's bare `cargo test` skips it.
pub const REQUIRE_SERVERS_VAR: &str = "TARN_TEST_REQUIRE_SERVERS";

/// For a test that cannot find a server it needs (`missing` says which, and
/// how to get one): panics when [`REQUIRE_SERVERS_VAR`] is set (as under
/// `make test`); otherwise prints that the calling test skips, past the test
/// harness's output capture, and returns so that the test can end.
#[track_caller]
pub fn skip_without_server(missing: &str) {
    let required = std::env::var(REQUIRE_SERVERS_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    if required {
        panic!("{missing} ({REQUIRE_SERVERS_VAR} is set: this run needs every test server)");
    }
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "skipped {test}: {missing}");
}

/// What a conformance factory returns: a fixture, or `None` when the case
/// skips (after [`skip_without_server`]).
pub trait MaybeFixture<F> {
    /// The fixture, if the case runs.
    fn into_fixture(self) -> Option<F>;
}

impl<F> MaybeFixture<F> for F {
    fn into_fixture(self) -> Option<F> {
        Some(self)
    }
}

impl<F> MaybeFixture<F> for Option<F> {
    fn into_fixture(self) -> Option<F> {
        self
    }
}

/// Defines one `#[tokio::test]` per case in a module; shared by the suites.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($module:ident, $suite:ident, $factory:expr; $($case:ident),+ $(,)?) => {
        #[allow(clippy::unwrap_used)]
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = $crate::testkit::MaybeFixture::into_fixture(($factory)().await);
                    let Some(fixture) = fixture else {
                        return;
                    };
                    $crate::testkit::$suite::$case(fixture).await;
                }
            )+
        }
    };
}

/// Asserts that `result` is an error of `kind`, naming `what` on failure.
#[track_caller]
pub fn assert_kind<T: std::fmt::Debug>(
    result: crate::PortResult<T>,
    kind: crate::ErrorKind,
    what: &str,
) {
    match result {
        Err(e) if e.kind() == kind => {}
        Err(e) => panic!("{what}: expected {kind:?}, got {:?}: {e}", e.kind()),
        Ok(v) => panic!("{what}: expected {kind:?}, got Ok({v:?})"),
    }
}
