//! A walk down a repository's history reads commits a page at a time in
//! generation order (highest first), as the log visits them, instead of one
//! round trip per commit; what the walk has passed is forgotten, so memory
//! holds a window of pages, not the history.

use crate::error::Result;
use crate::Engine;
use std::collections::HashMap;
use std::sync::Arc;
use tarn_model::{CommitId, RepositoryId};
use tarn_ports::CommitLink;

/// Links read by the first page; each further page doubles, up to the most.
const FIRST_PAGE: usize = 64;
const MOST_PER_PAGE: usize = 2048;

/// The smallest commit id: paging "after (g + 1, ZERO)" starts at
/// generation `g`.
const ZERO_ID: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(crate) struct History<'a> {
    engine: &'a Engine,
    repo: &'a RepositoryId,
    window: HashMap<CommitId, Arc<CommitLink>>,
    /// Where the next page starts (after this generation and id), `None`
    /// before the first.
    cursor: Option<(u64, CommitId)>,
    /// No commit is left below the cursor.
    exhausted: bool,
    per_page: usize,
    /// Page reads and single reads, for tests.
    pub(crate) reads: usize,
}

impl<'a> History<'a> {
    pub(crate) fn new(engine: &'a Engine, repo: &'a RepositoryId) -> Self {
        Self {
            engine,
            repo,
            window: HashMap::new(),
            cursor: None,
            exhausted: false,
            per_page: FIRST_PAGE,
            reads: 0,
        }
    }

    /// Commit `id`, whose generation is at most `generation` (a child's
    /// less one, or the start's own).
    pub(crate) async fn link(&mut self, id: &CommitId, generation: u64) -> Result<Arc<CommitLink>> {
        if let Some(l) = self.window.get(id) {
            return Ok(l.clone());
        }
        // Jump down when the pages are still above where the commit can be.
        let above = match &self.cursor {
            None => true,
            Some((g, _)) => *g > generation + 1,
        };
        if above {
            let zero = CommitId::new(ZERO_ID)?;
            self.cursor = Some((generation + 1, zero));
            self.exhausted = false;
        }
        // One page, then the commit alone: a merge's second parent may sit
        // many generations down (read when its turn comes, in pages again).
        if !self.exhausted {
            self.next_page().await?;
            if let Some(l) = self.window.get(id) {
                return Ok(l.clone());
            }
        }
        self.reads += 1;
        let c = self.engine.get_commit_record(self.repo, id).await?;
        Ok(Arc::new(CommitLink {
            id: c.id,
            parents: c.parents,
            generation: c.generation,
            creation_date: c.creation_date,
            meta_range_id: c.meta_range_id,
            summary: None,
        }))
    }

    async fn next_page(&mut self) -> Result<()> {
        self.reads += 1;
        let after = self.cursor.as_ref().map(|(g, id)| (*g, id));
        let page = self
            .engine
            .stores
            .refs
            .commit_links(self.repo, after, self.per_page)
            .await?;
        self.exhausted = page.len() < self.per_page;
        self.per_page = (self.per_page * 2).min(MOST_PER_PAGE);
        if let Some(last) = page.last() {
            self.cursor = Some((last.generation, last.id.clone()));
        }
        self.window
            .extend(page.into_iter().map(|l| (l.id.clone(), Arc::new(l))));
        Ok(())
    }

    /// Forgets the commits above `generation`: the walk, which goes down
    /// in generation, needs none of them again.
    pub(crate) fn passed(&mut self, generation: u64) {
        if self.window.len() > 2 * MOST_PER_PAGE {
            self.window.retain(|_, l| l.generation <= generation);
        }
    }
}
