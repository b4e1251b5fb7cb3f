//! Base values of layered trees, written off the commit path (see
//! `trees::described` and `docs/trees.md`).
//!
//! Once a commit, merge or import has moved a branch to a layered tree, the
//! engine describes that tree in the background: one description at a time
//! per engine, and while one runs up to [`WAITING`] asks wait (past that,
//! the oldest is dropped). Memory stays bounded however fast commits
//! come. A tree left undescribed costs speed, never correctness: a diff
//! that finds no base values reads the base, as it did before them.

use crate::Engine;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tarn_model::{Commit, CommitId, MetaRangeId, RepositoryId, StorageNamespace};
use tokio::sync::Notify;

/// The background describer of one engine (shared by its clones).
#[derive(Default)]
pub(crate) struct Describer {
    state: Mutex<State>,
    idle: Notify,
    /// Asks are ignored (see [`Engine::describing_on_request_only`]).
    off: bool,
}

/// Most asks waiting while a description runs.
const WAITING: usize = 16;

#[derive(Default)]
struct State {
    running: bool,
    pending: VecDeque<Ask>,
}

/// A tree to describe, and the commit its own was made on (whose tree's
/// base values may be reused).
struct Ask {
    repo: RepositoryId,
    ns: StorageNamespace,
    tree: MetaRangeId,
    parent: Option<CommitId>,
}

/// The describer's task: marks it idle once nothing waits, or when the task
/// ends otherwise (a panic).
struct Running {
    describer: Arc<Describer>,
    done: bool,
}

impl Running {
    /// The next ask; `None` once none waits, the describer then idle (in
    /// the same lock, so that no ask comes in between and is lost).
    fn next(&mut self) -> Option<Ask> {
        let mut state = self
            .describer
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let next = state.pending.pop_front();
        if next.is_none() {
            state.running = false;
            self.done = true;
            drop(state);
            self.describer.idle.notify_waiters();
        }
        next
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self
            .describer
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.running = false;
        state.pending.clear();
        drop(state);
        self.describer.idle.notify_waiters();
    }
}

impl Engine {
    /// Asks for the base values of `tree` (the new head of a branch of
    /// `repo`, made on commit `parent`) to be written in the background,
    /// if it is layered. Called on the commit path: it only takes note.
    pub(crate) fn describe_later(
        &self,
        repo: &RepositoryId,
        ns: &StorageNamespace,
        tree: &MetaRangeId,
        parent: Option<&CommitId>,
    ) {
        if self.describer.off || self.trees.cached_overlay_len(tree).is_none() {
            return; // plain (or not just written here)
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let ask = Ask {
            repo: repo.clone(),
            ns: ns.clone(),
            tree: tree.clone(),
            parent: parent.cloned(),
        };
        let describer = self.describer.clone();
        {
            let mut state = describer
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if state.running {
                if !state
                    .pending
                    .iter()
                    .any(|a| a.tree == ask.tree && a.ns == ask.ns)
                {
                    if state.pending.len() == WAITING {
                        state.pending.pop_front();
                    }
                    state.pending.push_back(ask);
                }
                return;
            }
            state.running = true;
        }
        let engine = self.clone();
        // Made before the task, so that a runtime dropping the task unrun
        // still marks the describer idle.
        let mut running = Running {
            describer,
            done: false,
        };
        runtime.spawn(async move {
            let mut next = Some(ask);
            while let Some(ask) = next {
                engine.describe_now(&ask).await;
                next = running.next();
            }
        });
    }

    /// Asks for the base values of the trees of those of `commits` a read
    /// found without them a moment ago (see
    /// [`crate::trees::TreeStore::base_values`]).
    pub(crate) fn describe_missing<'a>(
        &self,
        repo: &RepositoryId,
        ns: &StorageNamespace,
        commits: impl IntoIterator<Item = &'a Commit>,
    ) {
        for c in commits {
            if self.trees.found_undescribed(ns, &c.meta_range_id) {
                self.describe_later(repo, ns, &c.meta_range_id, c.parents.first());
            }
        }
    }

    async fn describe_now(&self, ask: &Ask) {
        let parent = match &ask.parent {
            Some(c) => match self.get_commit_record(&ask.repo, c).await {
                Ok(c) => Some(c.meta_range_id),
                Err(_) => None,
            },
            None => None,
        };
        match self
            .trees
            .describe(&ask.ns, &ask.tree, parent.as_ref())
            .await
        {
            Ok(true) => tracing::debug!(tree = %ask.tree, "described a layered tree"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(tree = %ask.tree, error = %e, "cannot describe a layered tree; diffs of it read its base")
            }
        }
    }

    /// This engine, writing base values only when asked
    /// ([`Engine::describe_tree`]), never in the background: for tests that
    /// must know which trees have them.
    pub fn describing_on_request_only(mut self) -> Self {
        self.describer = Arc::new(Describer {
            off: true,
            ..Describer::default()
        });
        self
    }

    /// Waits until the background describer has nothing running or
    /// waiting (for tests and benchmarks that measure a diff after it).
    pub async fn layers_described(&self) {
        loop {
            let idle = self.describer.idle.notified();
            let running = self
                .describer
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .running;
            if !running {
                return;
            }
            idle.await;
        }
    }

    /// Writes the base values of the tree of `reference`'s commit in `repo`
    /// now, unless written; whether it wrote them (a plain tree has none).
    pub async fn describe_tree(&self, repo: &RepositoryId, reference: &str) -> crate::Result<bool> {
        let ns = self.get_repository(repo).await?.storage_namespace;
        let commit = self.get_commit(repo, reference).await?;
        let parent = match commit.parents.first() {
            Some(p) => Some(self.get_commit_record(repo, p).await?.meta_range_id),
            None => None,
        };
        self.trees
            .describe(&ns, &commit.meta_range_id, parent.as_ref())
            .await
    }
}
