//! The seam between the engine and whatever runs hooks: the engine says
//! when an event happens; a [`Hooks`] implementation (the server's actions
//! service) reads the action files, runs the hooks and records the run.

use super::event::HookRecord;
use crate::error::{Error, Result};
use crate::Engine;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Runs the hooks of events.
pub trait Hooks: Send + Sync + 'static {
    /// Runs the hooks of a `pre-*` (or `prepare-commit`) event before the
    /// change. `Ok` carries the id of the run recorded (empty when nothing
    /// ran); [`Error::HookAborted`] stops the operation, which changes
    /// nothing.
    fn pre<'a>(&'a self, engine: &'a Engine, record: HookRecord) -> BoxFuture<'a, Result<String>>;

    /// Starts the hooks of a `post-*` event, after the change; they run in
    /// the background and their failure is recorded, never returned.
    fn post(&self, engine: &Engine, record: HookRecord);
}

impl Engine {
    /// This engine, telling `hooks` about every event.
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// This engine without hooks (what hooks themselves use, so that a
    /// hook's own writes trigger nothing).
    pub fn without_hooks(&self) -> Self {
        Self {
            hooks: None,
            ..self.clone()
        }
    }

    /// Whether hooks are configured: what only hooks need (the extra reads
    /// before an event) is skipped without them.
    pub(crate) fn hooks_on(&self) -> bool {
        self.hooks.is_some()
    }

    /// This engine, telling hooks that its operations come from `user`
    /// (a branch or tag event names no committer): what drivers use for
    /// the caller's operations.
    pub fn acting_as(&self, user: &str) -> Self {
        Self {
            actor: Some(user.into()),
            ..self.clone()
        }
    }

    fn with_actor(&self, mut record: HookRecord) -> HookRecord {
        if record.user.is_empty() {
            if let Some(a) = &self.actor {
                record.user = a.to_string();
            }
        }
        record
    }

    /// Runs a pre event's hooks, if any are configured.
    pub(crate) async fn pre_hook(&self, record: HookRecord) -> Result<String> {
        match &self.hooks {
            Some(h) => h.pre(self, self.with_actor(record)).await,
            None => Ok(String::new()),
        }
    }

    /// Starts a post event's hooks, if any are configured.
    pub(crate) fn post_hook(&self, record: HookRecord) {
        if let Some(h) = &self.hooks {
            h.post(self, self.with_actor(record));
        }
    }
}

/// An error a hook service returns to stop an operation.
pub fn aborted(message: impl Into<String>) -> Error {
    Error::HookAborted(message.into())
}
