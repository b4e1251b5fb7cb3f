//! The events hooks run on (lakeFS's seventeen), and what a hook is told
//! about one.

use std::collections::BTreeMap;
use std::fmt;

/// An event of a repository that hooks may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookEvent {
    PrepareCommit,
    PreCommit,
    PostCommit,
    PreMerge,
    PostMerge,
    PreCreateBranch,
    PostCreateBranch,
    PreDeleteBranch,
    PostDeleteBranch,
    PreCreateTag,
    PostCreateTag,
    PreDeleteTag,
    PostDeleteTag,
    PreRevert,
    PostRevert,
    PreCherryPick,
    PostCherryPick,
}

impl HookEvent {
    /// Every event.
    pub const ALL: [HookEvent; 17] = [
        Self::PrepareCommit,
        Self::PreCommit,
        Self::PostCommit,
        Self::PreMerge,
        Self::PostMerge,
        Self::PreCreateBranch,
        Self::PostCreateBranch,
        Self::PreDeleteBranch,
        Self::PostDeleteBranch,
        Self::PreCreateTag,
        Self::PostCreateTag,
        Self::PreDeleteTag,
        Self::PostDeleteTag,
        Self::PreRevert,
        Self::PostRevert,
        Self::PreCherryPick,
        Self::PostCherryPick,
    ];

    /// Its name in action files and run records (`pre-commit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrepareCommit => "prepare-commit",
            Self::PreCommit => "pre-commit",
            Self::PostCommit => "post-commit",
            Self::PreMerge => "pre-merge",
            Self::PostMerge => "post-merge",
            Self::PreCreateBranch => "pre-create-branch",
            Self::PostCreateBranch => "post-create-branch",
            Self::PreDeleteBranch => "pre-delete-branch",
            Self::PostDeleteBranch => "post-delete-branch",
            Self::PreCreateTag => "pre-create-tag",
            Self::PostCreateTag => "post-create-tag",
            Self::PreDeleteTag => "pre-delete-tag",
            Self::PostDeleteTag => "post-delete-tag",
            Self::PreRevert => "pre-revert",
            Self::PostRevert => "post-revert",
            Self::PreCherryPick => "pre-cherry-pick",
            Self::PostCherryPick => "post-cherry-pick",
        }
    }

    /// The event named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Whether its hooks run before the change and can stop it (`pre-*`
    /// and `prepare-commit`).
    pub fn is_pre(self) -> bool {
        !self.as_str().starts_with("post-")
    }

    /// Whether it concerns a tag (no branch filter applies).
    pub fn is_tag(self) -> bool {
        self.as_str().ends_with("-tag")
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The commit an event is about (being made, or made).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookCommit {
    pub message: String,
    pub committer: String,
    pub metadata: BTreeMap<String, String>,
    pub parents: Vec<String>,
    pub meta_range_id: String,
    /// Unix seconds.
    pub creation_date: i64,
}

/// What hooks are told about an event (lakeFS's `HookRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRecord {
    pub event: HookEvent,
    pub repository: String,
    pub storage_namespace: String,
    /// The reference the action files are read from.
    pub source_ref: String,
    /// The branch (the destination of a merge, the new branch); empty for
    /// tag events.
    pub branch: String,
    pub commit_id: String,
    pub commit: Option<HookCommit>,
    pub tag: String,
    /// The merged reference, as the caller named it.
    pub merge_source: String,
    /// The user who caused the event.
    pub user: String,
    /// For a post event: the run of its pre event.
    pub pre_run_id: String,
}

impl HookRecord {
    /// A record of `event` in `repository`, read from `source_ref`.
    pub fn new(
        event: HookEvent,
        repository: impl Into<String>,
        storage_namespace: impl Into<String>,
        source_ref: impl Into<String>,
    ) -> Self {
        Self {
            event,
            repository: repository.into(),
            storage_namespace: storage_namespace.into(),
            source_ref: source_ref.into(),
            branch: String::new(),
            commit_id: String::new(),
            commit: None,
            tag: String::new(),
            merge_source: String::new(),
            user: String::new(),
            pre_run_id: String::new(),
        }
    }
}
