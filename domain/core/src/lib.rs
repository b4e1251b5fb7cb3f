//! Tarn's use cases, over the ports.
//!
//! The engine (repositories, branches, staging, commits, diff, merge) is built
//! on [`Stores`], the bundle of port implementations that the composition root
//! chooses at startup. Nothing here knows about HTTP, SQL or any SDK.

use std::sync::Arc;
use tarn_ports::{BlockStore, Clock, IdGenerator, MultipartStore, RefStore, StagingStore};

/// The adapters behind every port, chosen once at startup.
#[derive(Clone)]
pub struct Stores {
    /// Object data and committed trees.
    pub blocks: Arc<dyn BlockStore>,
    /// Repositories, branches, tags and commits.
    pub refs: Arc<dyn RefStore>,
    /// Uncommitted changes.
    pub staging: Arc<dyn StagingStore>,
    /// Tracked gateway multipart uploads.
    pub multipart: Arc<dyn MultipartStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Unique ids.
    pub ids: Arc<dyn IdGenerator>,
}
