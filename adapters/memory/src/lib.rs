//! Every Tarn port in process memory.
//!
//! Nothing survives the process. Used by tests and by servers started with
//! `database.type = "memory"` / `blockstore.type = "mem"`. Each store guards
//! its maps with one mutex, which is what makes every operation atomic and
//! every compare-and-set linearizable.

mod auth;
mod block;
mod clock;
mod jobs;
mod multipart;
mod refs;
mod runs;
mod staging;

pub use auth::MemoryAuthStore;
pub use block::MemoryBlockStore;
pub use clock::{FixedClock, SequentialIds, SystemClock, UniqueIds};
pub use jobs::MemoryJobStore;
pub use multipart::MemoryMultipartStore;
pub use refs::MemoryRefStore;
pub use runs::MemoryRunStore;
pub use staging::MemoryStagingStore;

use std::sync::{Mutex, MutexGuard};
use tarn_ports::PortError;

/// Locks `m`, turning a poisoned lock (a panic while it was held) into an
/// internal error instead of a second panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, PortError> {
    m.lock()
        .map_err(|_| PortError::internal("memory store lock poisoned by an earlier panic"))
}
