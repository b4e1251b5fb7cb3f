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
//! after the property it checks. Cases panic with a message on failure.

pub mod auth;
pub mod block;
pub mod ids;
pub mod jobs;
pub mod multipart;
pub mod refs;
pub mod staging;

pub use auth::AuthFixture;
pub use block::BlockFixture;
pub use jobs::JobFixture;
pub use multipart::MultipartFixture;
pub use refs::RefFixture;
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
                    let fixture = ($factory)().await;
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
