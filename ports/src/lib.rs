//! The ports of Tarn's hexagon: async traits that the domain calls and the
//! adapters implement, each with a written contract and (behind the `testkit`
//! feature) a conformance suite that every adapter runs against itself.
//!
//! Failures are [`PortError`]s with a semantic [`ErrorKind`]; each method's
//! documentation names the kind it MUST return for each failure, and the
//! conformance suite checks it.

mod auth;
mod block;
mod clock;
mod error;
mod jobs;
mod multipart;
mod refs;
mod runs;
mod staging;
mod stream;

#[cfg(feature = "testkit")]
#[allow(clippy::unwrap_used)] // test support: a failed step is a failed test
pub mod testkit;

pub use auth::{AuthPage, AuthStore};
pub use block::{
    check_completed_parts, BlockStore, ByteRange, CompletedPart, GetOutcome, ListedBlock,
    ObjectMeta, PutOutcome, DELETE_BATCH, SMALL_PUTS_AT_ONCE,
};
pub use clock::{Clock, IdGenerator};
pub use error::{ErrorKind, PortError, PortResult};
pub use jobs::{JobOutcome, JobQuery, JobStore, NewJob};
pub use multipart::MultipartStore;
pub use refs::{CommitLink, RefStore, RepositoryBranch, MAX_COMMIT_SUMMARY};
pub use runs::{ActionRunStore, RunFilter};
pub use staging::{after_prefix, folder_of, Guarded, StagingEntry, StagingStore, PUT_MANY_ATOMIC};
pub use stream::{md5_hex, multipart_etag, ByteStream};
