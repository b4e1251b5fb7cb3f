//! Records of action runs (lakeFS's `RunResult` and `TaskResult`): what ran
//! on an event and how each hook ended.

use crate::{RepositoryId, Timestamp};

/// One run: the hooks that an event triggered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRun {
    pub repository: RepositoryId,
    /// Ids sort newest first (see the hooks service).
    pub run_id: String,
    /// `pre-commit`, `post-merge` ...
    pub event_type: String,
    /// Empty for tag events.
    pub branch: String,
    /// The reference the action files were read from.
    pub source_ref: String,
    /// The commit the event made or concerns; empty when none (yet).
    pub commit_id: String,
    pub start_time: Timestamp,
    pub end_time: Timestamp,
    /// Whether every hook that ran succeeded.
    pub passed: bool,
}

/// How one hook of a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRun {
    pub run_id: String,
    /// `<action index>_<hook index>`, four digits each: `0000_0001`.
    pub hook_run_id: String,
    pub hook_id: String,
    pub action_name: String,
    /// `None` when the hook was skipped (its condition was false).
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub passed: bool,
}
