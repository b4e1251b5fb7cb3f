//! Repository settings: branch protection rules. A rule protects the
//! branches whose names match its glob pattern from staged writes, commits
//! and resets; merges and reverts into them stay allowed (as lakeFS).

use crate::error::{Error, PortResultExt, Protected, Result};
use crate::Engine;
use crate::Entity;
use tarn_model::{glob_match, BranchName, RepositoryId};
use tarn_ports::ErrorKind;

pub(crate) const BRANCH_PROTECTION: &str = "branch_protection";

/// Branch protection rules and the ETag of their current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionRules {
    /// Glob patterns (`*`, `?`) of protected branch names.
    pub patterns: Vec<String>,
    /// Changes with every update; `If-Match` takes it.
    pub etag: String,
}

fn encode(patterns: &[String]) -> String {
    patterns.join("\n")
}

fn decode(stored: &str) -> Vec<String> {
    stored
        .split('\n')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn etag(stored: Option<&str>) -> String {
    tarn_ports::md5_hex(stored.unwrap_or("").as_bytes())
}

impl Engine {
    /// The branch protection rules of a repository.
    pub async fn branch_protection(&self, repo: &RepositoryId) -> Result<ProtectionRules> {
        let stored = self.read_setting(repo, BRANCH_PROTECTION).await?;
        Ok(ProtectionRules {
            patterns: stored.as_deref().map(decode).unwrap_or_default(),
            etag: etag(stored.as_deref()),
        })
    }

    /// Replaces the rules; with `if_match`, only if it is the current ETag.
    pub async fn set_branch_protection(
        &self,
        repo: &RepositoryId,
        patterns: Vec<String>,
        if_match: Option<&str>,
    ) -> Result<()> {
        if let Some(bad) = patterns.iter().find(|p| p.is_empty() || p.contains('\n')) {
            return Err(Error::invalid(
                "pattern",
                format!("{bad:?}: patterns are non-empty, single-line globs"),
            ));
        }
        let value = encode(&patterns);
        // A lost race re-reads: with `if_match`, the new ETag then differs.
        self.update_setting(repo, BRANCH_PROTECTION, |current| {
            if let Some(want) = if_match {
                if want.trim_matches('"') != etag(current) {
                    return Err(Error::PreconditionFailed);
                }
            }
            Ok((Some(value.clone()), ()))
        })
        .await
    }

    /// Refuses the operation when a rule protects `branch`.
    pub(crate) async fn check_unprotected(
        &self,
        repo: &RepositoryId,
        branch: &BranchName,
        action: Protected,
    ) -> Result<()> {
        let stored = self.read_setting(repo, BRANCH_PROTECTION).await?;
        ensure_unprotected(stored.as_deref(), branch, action)
    }
}

/// Refuses a write to `branch` if the stored rules protect it.
pub(crate) fn ensure_unprotected(
    stored: Option<&str>,
    branch: &BranchName,
    action: Protected,
) -> Result<()> {
    let protected = stored
        .map(decode)
        .unwrap_or_default()
        .iter()
        .any(|p| glob_match(p, branch.as_str()));
    if protected {
        return Err(Error::ProtectedBranch {
            branch: branch.to_string(),
            action,
        });
    }
    Ok(())
}

impl Engine {
    /// Adds one protection rule for `pattern` (lakeFS's internal endpoint):
    /// an existing one stays as it is. A read-only repository refuses.
    pub async fn add_branch_protection(&self, repo: &RepositoryId, pattern: &str) -> Result<()> {
        self.writable_repository(repo).await?;
        if pattern.is_empty() || pattern.contains('\n') {
            return Err(Error::invalid(
                "pattern",
                format!("{pattern:?}: patterns are non-empty, single-line globs"),
            ));
        }
        self.update_setting(repo, BRANCH_PROTECTION, |stored| {
            let mut patterns = stored.map(decode).unwrap_or_default();
            if patterns.iter().any(|p| p == pattern) {
                return Ok((None, ()));
            }
            patterns.push(pattern.to_owned());
            Ok((Some(encode(&patterns)), ()))
        })
        .await
    }

    /// Removes the rule for exactly `pattern`; `NotFound` when there is none.
    pub async fn remove_branch_protection(&self, repo: &RepositoryId, pattern: &str) -> Result<()> {
        self.writable_repository(repo).await?;
        self.update_setting(repo, BRANCH_PROTECTION, |stored| {
            let mut patterns = stored.map(decode).unwrap_or_default();
            let before = patterns.len();
            patterns.retain(|p| p != pattern);
            if patterns.len() == before {
                return Err(Error::not_found(Entity::ProtectionRule, pattern));
            }
            Ok((Some(encode(&patterns)), ()))
        })
        .await
    }

    /// Reads setting `key` of `repo`, checking the repository exists.
    pub(crate) async fn read_setting(
        &self,
        repo: &RepositoryId,
        key: &str,
    ) -> Result<Option<String>> {
        self.stores
            .refs
            .get_setting(repo, key)
            .await
            .named(Entity::Repository, repo)
    }

    /// Updates setting `key` of `repo` by compare-and-set: `change` maps the
    /// current value to the new one (`None`: leave it as it is), retried
    /// when a concurrent update wins. Returns what `change` made of the value
    /// that was stored.
    pub(crate) async fn update_setting<T>(
        &self,
        repo: &RepositoryId,
        key: &str,
        mut change: impl FnMut(Option<&str>) -> Result<(Option<String>, T)>,
    ) -> Result<T> {
        for _ in 0..self.settings.max_attempts {
            let current = self.read_setting(repo, key).await?;
            let (next, out) = change(current.as_deref())?;
            let Some(next) = next else {
                return Ok(out);
            };
            match self
                .stores
                .refs
                .set_setting(repo, key, current.as_deref(), &next)
                .await
            {
                Ok(()) => return Ok(out),
                Err(e) if e.kind() == ErrorKind::PreconditionFailed => continue,
                Err(e) => return Err(Error::from_port(e, Entity::Repository, repo)),
            }
        }
        Err(Error::TooManyAttempts(format!("{repo} setting {key}")))
    }
}
