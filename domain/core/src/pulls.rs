//! Pull requests (lakeFS's experimental API): a proposal to merge one branch
//! into another, kept as one repository setting per request
//! (`pull_request/<id>`) and updated by compare-and-set; merging one is a
//! normal merge.

use crate::error::{Error, Result};
use crate::merge::MergeRequest;
use crate::page::Page;
use crate::Engine;
use crate::Entity;
use serde::{Deserialize, Serialize};
use tarn_model::{BranchName, CommitId, RepositoryId, Timestamp};

const KEY_PREFIX: &str = "pull_request/";

/// Where a pull request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullStatus {
    /// Open for review.
    Open,
    /// Closed without merging.
    Closed,
    /// Merged.
    Merged,
}

impl PullStatus {
    /// Parses `open`, `closed` or `merged`, in any case.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            "merged" => Ok(Self::Merged),
            _ => Err(Error::invalid(
                "status",
                format!("{s:?}: one of open, closed, merged"),
            )),
        }
    }

    /// Its wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Merged => "merged",
        }
    }
}

/// Which pull requests a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullFilter {
    /// Open ones.
    Open,
    /// Closed and merged ones.
    Closed,
    /// All.
    #[default]
    All,
}

impl PullFilter {
    fn keeps(self, status: PullStatus) -> bool {
        match self {
            Self::Open => status == PullStatus::Open,
            Self::Closed => status != PullStatus::Open,
            Self::All => true,
        }
    }
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its id: sorts newest first.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: PullStatus,
    /// Who opened it.
    pub author: String,
    /// The branch to merge.
    pub source_branch: BranchName,
    /// The branch to merge into.
    pub destination_branch: BranchName,
    /// When it was opened.
    pub creation_date: Timestamp,
    /// When it was last closed or merged.
    pub closed_date: Option<Timestamp>,
    /// The merge commit, once merged.
    pub merged_commit_id: Option<CommitId>,
}

/// A new pull request.
#[derive(Debug, Clone)]
pub struct PullCreation {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// The branch to merge.
    pub source_branch: BranchName,
    /// The branch to merge into.
    pub destination_branch: BranchName,
    /// Who opens it.
    pub author: String,
}

/// Changes to a pull request; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct PullUpdate {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status (any transition, as lakeFS).
    pub status: Option<PullStatus>,
}

/// The stored form.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    title: String,
    description: String,
    status: PullStatus,
    author: String,
    source_branch: String,
    destination_branch: String,
    creation_micros: i64,
    closed_micros: Option<i64>,
    merged_commit_id: Option<String>,
}

fn corrupt(id: &str, what: impl std::fmt::Display) -> Error {
    Error::Internal(tarn_ports::PortError::internal(format!(
        "pull request {id} is stored unreadably: {what}"
    )))
}

impl Record {
    fn of(pr: &PullRequest) -> Self {
        Self {
            title: pr.title.clone(),
            description: pr.description.clone(),
            status: pr.status,
            author: pr.author.clone(),
            source_branch: pr.source_branch.to_string(),
            destination_branch: pr.destination_branch.to_string(),
            creation_micros: pr.creation_date.unix_micros(),
            closed_micros: pr.closed_date.map(Timestamp::unix_micros),
            merged_commit_id: pr.merged_commit_id.as_ref().map(ToString::to_string),
        }
    }

    fn encode(&self, id: &str) -> Result<String> {
        serde_json::to_string(self).map_err(|e| corrupt(id, e))
    }

    fn decode(id: &str, stored: &str) -> Result<PullRequest> {
        let r: Record = serde_json::from_str(stored).map_err(|e| corrupt(id, e))?;
        Ok(PullRequest {
            id: id.to_owned(),
            title: r.title,
            description: r.description,
            status: r.status,
            author: r.author,
            source_branch: BranchName::new(r.source_branch).map_err(|e| corrupt(id, e))?,
            destination_branch: BranchName::new(r.destination_branch)
                .map_err(|e| corrupt(id, e))?,
            creation_date: Timestamp::from_unix_micros(r.creation_micros),
            closed_date: r.closed_micros.map(Timestamp::from_unix_micros),
            merged_commit_id: r
                .merged_commit_id
                .map(CommitId::new)
                .transpose()
                .map_err(|e| corrupt(id, e))?,
        })
    }
}

/// Ids are 20 characters of lowercase hex: the time left until the year
/// 3000 in milliseconds, then randomness, so that they sort newest first
/// (as lakeFS's). Anything else is not an id.
fn valid_id(id: &str) -> Result<()> {
    if id.len() == 20 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(Error::invalid(
            "pull request id",
            format!("{id:?} is not a pull request id"),
        ))
    }
}

const YEAR_3000_MILLIS: i64 = 32_503_680_000_000;

impl Engine {
    fn new_pull_id(&self) -> String {
        let left = YEAR_3000_MILLIS.saturating_sub(self.stores.clock.now().unix_micros() / 1000);
        let left = u64::try_from(left).unwrap_or(0) & 0xff_ffff_ffff;
        let random: u64 = rand::random::<u64>() & 0xff_ffff_ffff;
        format!("{left:010x}{random:010x}")
    }

    /// Opens a pull request from `source_branch` into `destination_branch`;
    /// both must exist and differ.
    pub async fn create_pull_request(
        &self,
        repo: &RepositoryId,
        c: PullCreation,
    ) -> Result<PullRequest> {
        if c.source_branch == c.destination_branch {
            return Err(Error::invalid(
                "destination_branch",
                "source and destination branches are the same",
            ));
        }
        self.get_branch(repo, &c.source_branch).await?;
        self.get_branch(repo, &c.destination_branch).await?;
        let pr = PullRequest {
            id: self.new_pull_id(),
            title: c.title,
            description: c.description,
            status: PullStatus::Open,
            author: c.author,
            source_branch: c.source_branch,
            destination_branch: c.destination_branch,
            creation_date: self.stores.clock.now(),
            closed_date: None,
            merged_commit_id: None,
        };
        let value = Record::of(&pr).encode(&pr.id)?;
        let key = format!("{KEY_PREFIX}{}", pr.id);
        self.update_setting(repo, &key, |stored| match stored {
            Some(_) => Err(Error::AlreadyExists {
                entity: Entity::PullRequest,
                name: pr.id.clone(),
            }),
            None => Ok((Some(value.clone()), ())),
        })
        .await?;
        Ok(pr)
    }

    /// A pull request by id.
    pub async fn get_pull_request(&self, repo: &RepositoryId, id: &str) -> Result<PullRequest> {
        valid_id(id)?;
        let stored = self
            .read_setting(repo, &format!("{KEY_PREFIX}{id}"))
            .await?;
        let stored = stored.ok_or_else(|| Error::not_found(Entity::PullRequest, id))?;
        Record::decode(id, &stored)
    }

    /// Pull requests whose id starts with `prefix`, after `after`, newest
    /// first, that `filter` keeps.
    pub async fn list_pull_requests(
        &self,
        repo: &RepositoryId,
        filter: PullFilter,
        (prefix, after, amount): (&str, Option<&str>, usize),
    ) -> Result<Page<PullRequest>> {
        self.get_repository(repo).await?;
        let refs = &self.stores.refs;
        let settings_prefix = format!("{KEY_PREFIX}{prefix}");
        let fetch = |cursor: Option<String>, limit| {
            let settings_prefix = settings_prefix.clone();
            async move {
                let after = cursor.map(|c| format!("{KEY_PREFIX}{c}"));
                let rows = refs
                    .list_settings(repo, &settings_prefix, after.as_deref(), limit)
                    .await?;
                rows.into_iter()
                    .map(|(key, value)| {
                        let id = key.strip_prefix(KEY_PREFIX).unwrap_or(&key);
                        Record::decode(id, &value)
                    })
                    .collect::<Result<Vec<_>>>()
            }
        };
        crate::page::filtered(
            prefix,
            after,
            amount,
            |p: &PullRequest| p.id.as_str(),
            |p| filter.keeps(p.status),
            fetch,
        )
        .await
    }

    /// Changes a pull request: any of title, description and status. Closing
    /// or merging stamps `closed_date`.
    pub async fn update_pull_request(
        &self,
        repo: &RepositoryId,
        id: &str,
        u: PullUpdate,
    ) -> Result<PullRequest> {
        self.change_pull_request(repo, id, |pr| {
            if let Some(t) = &u.title {
                pr.title = t.clone();
            }
            if let Some(d) = &u.description {
                pr.description = d.clone();
            }
            if let Some(s) = u.status {
                pr.status = s;
            }
            Ok(())
        })
        .await
    }

    async fn change_pull_request(
        &self,
        repo: &RepositoryId,
        id: &str,
        change: impl Fn(&mut PullRequest) -> Result<()>,
    ) -> Result<PullRequest> {
        valid_id(id)?;
        let now = self.stores.clock.now();
        self.update_setting(repo, &format!("{KEY_PREFIX}{id}"), |stored| {
            let stored = stored.ok_or_else(|| Error::not_found(Entity::PullRequest, id))?;
            let mut pr = Record::decode(id, stored)?;
            let was = pr.status;
            change(&mut pr)?;
            if pr.status != PullStatus::Open && pr.status != was {
                pr.closed_date = Some(now);
            }
            let value = Record::of(&pr).encode(id)?;
            Ok((Some(value), pr))
        })
        .await
    }

    /// Merges an open pull request's source into its destination (a normal
    /// merge with lakeFS's message), then marks it merged with the commit.
    pub async fn merge_pull_request(
        &self,
        repo: &RepositoryId,
        id: &str,
        committer: &str,
    ) -> Result<(PullRequest, CommitId)> {
        let pr = self.get_pull_request(repo, id).await?;
        if pr.status != PullStatus::Open {
            return Err(Error::invalid(
                "status",
                format!("bad pull request status: {} is {}", id, pr.status.as_str()),
            ));
        }
        let request = MergeRequest {
            message: Some(format!(
                "Merge '{}' into '{}'",
                pr.source_branch, pr.destination_branch
            )),
            committer: committer.to_owned(),
            ..MergeRequest::default()
        };
        let commit = self
            .merge(
                repo,
                pr.source_branch.as_str(),
                &pr.destination_branch,
                request,
            )
            .await?;
        let merged = commit.id.clone();
        let pr = self
            .change_pull_request(repo, id, |pr| {
                pr.status = PullStatus::Merged;
                pr.merged_commit_id = Some(merged.clone());
                Ok(())
            })
            .await?;
        Ok((pr, commit.id))
    }
}
