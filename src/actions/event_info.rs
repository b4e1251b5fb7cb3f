//! The JSON body lakeFS sends hooks about an event (`EventInfo`).

use serde::Serialize;
use std::collections::BTreeMap;
use tarn_domain::actions::HookRecord;

/// lakeFS's `EventInfo`, field for field and in its order.
#[derive(Debug, Serialize)]
pub struct EventInfo<'a> {
    pub event_type: &'a str,
    /// UTC, RFC 3339 to the second: when the hook runs.
    pub event_time: String,
    pub action_name: &'a str,
    pub hook_id: &'a str,
    pub repository_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub branch_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub source_ref: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub tag_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub commit_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub commit_message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub committer: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_metadata: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub merge_source: &'a str,
}

/// RFC 3339 UTC to the second.
pub fn rfc3339_seconds(unix_seconds: i64) -> String {
    crate::http::shared::dates::iso8601(unix_seconds * 1_000_000).replace(".000Z", "Z")
}

impl<'a> EventInfo<'a> {
    /// The body for hook `hook_id` of action `action_name` at `now`.
    pub fn new(record: &'a HookRecord, action_name: &'a str, hook_id: &'a str, now: i64) -> Self {
        let commit = record.commit.as_ref();
        Self {
            event_type: record.event.as_str(),
            event_time: rfc3339_seconds(now),
            action_name,
            hook_id,
            repository_id: &record.repository,
            branch_id: &record.branch,
            source_ref: &record.source_ref,
            tag_id: &record.tag,
            commit_id: &record.commit_id,
            commit_message: commit.map_or("", |c| c.message.as_str()),
            committer: commit.map_or("", |c| c.committer.as_str()),
            commit_metadata: commit.map(|c| &c.metadata).filter(|m| !m.is_empty()),
            merge_source: &record.merge_source,
        }
    }
}
