use crate::lock;
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Mutex;
use tarn_model::{Branch, BranchName, Commit, CommitId, Repository, RepositoryId, Tag, TagName};
use tarn_ports::{CommitLink, PortError, PortResult, RefStore, MAX_COMMIT_SUMMARY};

struct RepoState {
    repo: Repository,
    branches: BTreeMap<BranchName, Branch>,
    tags: BTreeMap<TagName, Tag>,
    commits: BTreeMap<CommitId, Commit>,
    /// Commit ids in history order (generation, then id), and the
    /// summaries commits were stored with.
    by_generation: BTreeSet<(u64, CommitId)>,
    summaries: BTreeMap<CommitId, Vec<u8>>,
    settings: BTreeMap<String, String>,
}

/// A `RefStore` in memory.
#[derive(Default)]
pub struct MemoryRefStore {
    repos: Mutex<BTreeMap<RepositoryId, RepoState>>,
}

impl MemoryRefStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_repo<T>(
        &self,
        id: &RepositoryId,
        f: impl FnOnce(&mut RepoState) -> PortResult<T>,
    ) -> PortResult<T> {
        let mut repos = lock(&self.repos)?;
        let state = repos
            .get_mut(id)
            .ok_or_else(|| PortError::not_found(format!("repository {id} not found")))?;
        f(state)
    }
}

impl RepoState {
    /// Adds a commit unless its id is there already.
    fn insert_commit(&mut self, commit: &Commit, summary: Option<&[u8]>) {
        if self.commits.contains_key(&commit.id) {
            return;
        }
        self.commits.insert(commit.id.clone(), commit.clone());
        self.by_generation
            .insert((commit.generation, commit.id.clone()));
        if let Some(summary) = summary {
            self.summaries.insert(commit.id.clone(), summary.to_vec());
        }
    }
}

/// Up to `limit` values of `map` with keys strictly after `after`.
fn page<K: Ord, V: Clone>(map: &BTreeMap<K, V>, after: Option<&K>, limit: usize) -> Vec<V> {
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    map.range((lower, Bound::Unbounded))
        .take(limit)
        .map(|(_, v)| v.clone())
        .collect()
}

#[async_trait]
impl RefStore for MemoryRefStore {
    async fn create_repository(
        &self,
        repo: &Repository,
        initial_commit: &Commit,
        default_branch: &Branch,
    ) -> PortResult<()> {
        let mut repos = lock(&self.repos)?;
        if repos.contains_key(&repo.id) {
            return Err(PortError::already_exists(format!(
                "repository {} already exists",
                repo.id
            )));
        }
        let mut state = RepoState {
            repo: repo.clone(),
            branches: BTreeMap::new(),
            tags: BTreeMap::new(),
            commits: BTreeMap::new(),
            by_generation: BTreeSet::new(),
            summaries: BTreeMap::new(),
            settings: BTreeMap::new(),
        };
        state.insert_commit(initial_commit, None);
        state
            .branches
            .insert(default_branch.name.clone(), default_branch.clone());
        repos.insert(repo.id.clone(), state);
        Ok(())
    }

    async fn create_bare_repository(&self, repo: &Repository) -> PortResult<()> {
        let mut repos = lock(&self.repos)?;
        if repos.contains_key(&repo.id) {
            return Err(PortError::already_exists(format!(
                "repository {} already exists",
                repo.id
            )));
        }
        let state = RepoState {
            repo: repo.clone(),
            branches: BTreeMap::new(),
            tags: BTreeMap::new(),
            commits: BTreeMap::new(),
            by_generation: BTreeSet::new(),
            summaries: BTreeMap::new(),
            settings: BTreeMap::new(),
        };
        repos.insert(repo.id.clone(), state);
        Ok(())
    }

    async fn get_repository(&self, id: &RepositoryId) -> PortResult<Repository> {
        self.with_repo(id, |s| Ok(s.repo.clone()))
    }

    async fn list_repositories(
        &self,
        after: Option<&RepositoryId>,
        limit: usize,
    ) -> PortResult<Vec<Repository>> {
        let repos = lock(&self.repos)?;
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(repos
            .range((lower, Bound::Unbounded))
            .take(limit)
            .map(|(_, s)| s.repo.clone())
            .collect())
    }

    async fn delete_repository(&self, id: &RepositoryId) -> PortResult<()> {
        lock(&self.repos)?
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| PortError::not_found(format!("repository {id} not found")))
    }

    async fn create_branch(&self, repo: &RepositoryId, branch: &Branch) -> PortResult<()> {
        self.with_repo(repo, |s| {
            if s.branches.contains_key(&branch.name) {
                return Err(PortError::already_exists(format!(
                    "branch {} already exists",
                    branch.name
                )));
            }
            s.branches.insert(branch.name.clone(), branch.clone());
            Ok(())
        })
    }

    async fn get_branch(&self, repo: &RepositoryId, name: &BranchName) -> PortResult<Branch> {
        self.with_repo(repo, |s| {
            s.branches
                .get(name)
                .cloned()
                .ok_or_else(|| PortError::not_found(format!("branch {name} not found")))
        })
    }

    async fn list_branches(
        &self,
        repo: &RepositoryId,
        after: Option<&BranchName>,
        limit: usize,
    ) -> PortResult<Vec<Branch>> {
        self.with_repo(repo, |s| Ok(page(&s.branches, after, limit)))
    }

    async fn update_branch(
        &self,
        repo: &RepositoryId,
        expected: &Branch,
        new: &Branch,
    ) -> PortResult<()> {
        if expected.name != new.name {
            return Err(PortError::invalid_input(
                "a branch update cannot rename the branch",
            ));
        }
        self.with_repo(repo, |s| {
            let current = s.branches.get_mut(&expected.name).ok_or_else(|| {
                PortError::not_found(format!("branch {} not found", expected.name))
            })?;
            if current != expected {
                return Err(PortError::precondition_failed(format!(
                    "branch {} changed concurrently",
                    expected.name
                )));
            }
            *current = new.clone();
            Ok(())
        })
    }

    async fn delete_branch(&self, repo: &RepositoryId, name: &BranchName) -> PortResult<()> {
        self.with_repo(repo, |s| {
            s.branches
                .remove(name)
                .map(|_| ())
                .ok_or_else(|| PortError::not_found(format!("branch {name} not found")))
        })
    }

    async fn create_tag(&self, repo: &RepositoryId, tag: &Tag) -> PortResult<()> {
        self.with_repo(repo, |s| {
            if s.tags.contains_key(&tag.name) {
                return Err(PortError::already_exists(format!(
                    "tag {} already exists",
                    tag.name
                )));
            }
            s.tags.insert(tag.name.clone(), tag.clone());
            Ok(())
        })
    }

    async fn get_tag(&self, repo: &RepositoryId, name: &TagName) -> PortResult<Tag> {
        self.with_repo(repo, |s| {
            s.tags
                .get(name)
                .cloned()
                .ok_or_else(|| PortError::not_found(format!("tag {name} not found")))
        })
    }

    async fn list_tags(
        &self,
        repo: &RepositoryId,
        after: Option<&TagName>,
        limit: usize,
    ) -> PortResult<Vec<Tag>> {
        self.with_repo(repo, |s| Ok(page(&s.tags, after, limit)))
    }

    async fn delete_tag(&self, repo: &RepositoryId, name: &TagName) -> PortResult<()> {
        self.with_repo(repo, |s| {
            s.tags
                .remove(name)
                .map(|_| ())
                .ok_or_else(|| PortError::not_found(format!("tag {name} not found")))
        })
    }

    async fn put_commit(&self, repo: &RepositoryId, commit: &Commit) -> PortResult<()> {
        self.with_repo(repo, |s| {
            s.insert_commit(commit, None);
            Ok(())
        })
    }

    async fn put_commit_with_summary(
        &self,
        repo: &RepositoryId,
        commit: &Commit,
        summary: &[u8],
    ) -> PortResult<()> {
        if summary.len() > MAX_COMMIT_SUMMARY {
            return Err(PortError::invalid_input(format!(
                "a commit summary of {} bytes (at most {MAX_COMMIT_SUMMARY})",
                summary.len()
            )));
        }
        self.with_repo(repo, |s| {
            s.insert_commit(commit, Some(summary));
            Ok(())
        })
    }

    async fn commit_links(
        &self,
        repo: &RepositoryId,
        after: Option<(u64, &CommitId)>,
        limit: usize,
    ) -> PortResult<Vec<CommitLink>> {
        self.with_repo(repo, |s| {
            let upper = match after {
                Some((g, id)) => Bound::Excluded((g, id.clone())),
                None => Bound::Unbounded,
            };
            Ok(s.by_generation
                .range((Bound::Unbounded, upper))
                .rev()
                .take(limit)
                .filter_map(|(_, id)| s.commits.get(id))
                .map(|c| CommitLink {
                    id: c.id.clone(),
                    parents: c.parents.clone(),
                    generation: c.generation,
                    creation_date: c.creation_date,
                    meta_range_id: c.meta_range_id.clone(),
                    summary: s.summaries.get(&c.id).cloned(),
                })
                .collect())
        })
    }

    async fn get_commit(&self, repo: &RepositoryId, id: &CommitId) -> PortResult<Commit> {
        self.with_repo(repo, |s| {
            s.commits
                .get(id)
                .cloned()
                .ok_or_else(|| PortError::not_found(format!("commit {id} not found")))
        })
    }

    async fn get_setting(&self, repo: &RepositoryId, key: &str) -> PortResult<Option<String>> {
        self.with_repo(repo, |s| Ok(s.settings.get(key).cloned()))
    }

    async fn list_settings(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> PortResult<Vec<(String, String)>> {
        self.with_repo(repo, |s| {
            Ok(s.settings
                .range::<str, _>((
                    std::ops::Bound::Included(prefix),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(k, _)| k.starts_with(prefix))
                .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        })
    }

    async fn set_setting(
        &self,
        repo: &RepositoryId,
        key: &str,
        expected: Option<&str>,
        value: &str,
    ) -> PortResult<()> {
        self.with_repo(repo, |s| {
            if s.settings.get(key).map(String::as_str) != expected {
                return Err(PortError::precondition_failed(format!(
                    "setting {key} changed"
                )));
            }
            s.settings.insert(key.to_owned(), value.to_owned());
            Ok(())
        })
    }

    async fn list_commits(
        &self,
        repo: &RepositoryId,
        after: Option<&CommitId>,
        limit: usize,
    ) -> PortResult<Vec<Commit>> {
        use std::ops::Bound;
        self.with_repo(repo, |s| {
            let start = after.map_or(Bound::Unbounded, Bound::Excluded);
            Ok(s.commits
                .range::<CommitId, _>((start, Bound::Unbounded))
                .take(limit)
                .map(|(_, c)| c.clone())
                .collect())
        })
    }

    async fn find_commits_by_prefix(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        limit: usize,
    ) -> PortResult<Vec<CommitId>> {
        self.with_repo(repo, |s| {
            Ok(s.commits
                .keys()
                .filter(|id| id.as_str().starts_with(prefix))
                .take(limit)
                .cloned()
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tarn_ports::testkit::RefFixture;

    async fn fixture() -> RefFixture {
        RefFixture {
            store: Arc::new(MemoryRefStore::new()),
            guard: Box::new(()),
        }
    }

    tarn_ports::ref_store_conformance!(fixture);
}
