//! Background jobs: work that outlives a request (garbage collection,
//! import, ...), kept durably so that any instance may run it.

use crate::ids::string_id;
use crate::{InvalidValue, RepositoryId, Timestamp};
use std::fmt;

/// 1 to 64 characters of `[A-Za-z0-9_-]`: ids from an `IdGenerator` fit.
fn validate_job_id(s: &str) -> Result<(), &'static str> {
    if !(1..=64).contains(&s.len()) {
        return Err("must be 1 to 64 characters long");
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("may contain only ASCII letters, digits, '_' and '-'");
    }
    Ok(())
}

/// A lowercase letter, then up to 63 of `[a-z0-9._-]`: `gc`, `import`,
/// `test.sleep`.
fn validate_job_kind(s: &str) -> Result<(), &'static str> {
    let bytes = s.as_bytes();
    if !(1..=64).contains(&bytes.len()) {
        return Err("must be 1 to 64 characters long");
    }
    if !bytes[0].is_ascii_lowercase() {
        return Err("must start with a lowercase letter");
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b);
    if !bytes.iter().all(|&b| allowed(b)) {
        return Err("may contain only lowercase letters, digits, '.', '_' and '-'");
    }
    Ok(())
}

/// 1 to 128 visible ASCII characters.
fn validate_job_owner(s: &str) -> Result<(), &'static str> {
    if !(1..=128).contains(&s.len()) {
        return Err("must be 1 to 128 characters long");
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("may contain only visible ASCII characters");
    }
    Ok(())
}

string_id!(
    /// A job id: 1 to 64 characters of `[A-Za-z0-9_-]`.
    JobId,
    "job id",
    validate_job_id
);
string_id!(
    /// What a job does, naming the handler that runs it: a lowercase letter,
    /// then up to 63 of `[a-z0-9._-]` (`gc`, `import`, `test.sleep`).
    JobKind,
    "job kind",
    validate_job_kind
);
string_id!(
    /// The runner instance that holds a job's lease: 1 to 128 visible ASCII
    /// characters, unique per running instance.
    JobOwner,
    "job owner",
    validate_job_owner
);

/// Where a job is in its life. `Pending` and `Running` are live; the others
/// are final and never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting for a runner.
    Pending,
    /// Held by a runner under a lease.
    Running,
    /// Done; the job has a result.
    Succeeded,
    /// Gave up; the job has an error.
    Failed,
    /// Stopped because cancellation was requested.
    Canceled,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 5] = [
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Canceled,
    ];

    /// The state's name as stored and shown: `pending`, `running`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Whether the state is final.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobState {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| InvalidValue::new("job state", s, "is not a job state"))
    }
}

/// How far a job got: `done` of `total` units (`total` unknown when
/// `None`) and a short note for people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobProgress {
    /// Units done.
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
    /// What the job is doing, briefly.
    pub message: String,
}

/// A runner's hold on a job: nobody else may run it until `expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLease {
    /// The runner instance holding the job.
    pub owner: JobOwner,
    /// When the hold lapses unless renewed.
    pub expires: Timestamp,
}

/// A durable job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// What it does.
    pub kind: JobKind,
    /// The handler's input (JSON text by convention); opaque to the store.
    pub parameters: String,
    /// The repository it works on, if any.
    pub repository: Option<RepositoryId>,
    /// Where it is in its life.
    pub state: JobState,
    /// How far it got.
    pub progress: JobProgress,
    /// The outcome of a `Succeeded` job.
    pub result: Option<String>,
    /// Why a `Failed` job failed.
    pub error: Option<String>,
    /// The lease of a `Running` job (`None` in every other state).
    pub lease: Option<JobLease>,
    /// Whether someone asked the job to stop.
    pub cancel_requested: bool,
    /// How many times a runner claimed it (more than one after takeovers).
    pub attempts: u32,
    /// When it was created.
    pub created: Timestamp,
    /// When it last changed.
    pub updated: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_ids_and_owners_validate() {
        assert!(JobKind::new("gc").is_ok());
        assert!(JobKind::new("test.sleep").is_ok());
        assert!(JobKind::new("Gc").is_err());
        assert!(JobKind::new("1gc").is_err());
        assert!(JobKind::new("").is_err());
        assert!(JobKind::new("a b").is_err());
        assert!(JobKind::new("k".repeat(65)).is_err());
        assert!(JobId::new("01hx-abc_D").is_ok());
        assert!(JobId::new("a/b").is_err());
        assert!(JobId::new("").is_err());
        assert!(JobOwner::new("host-1:4242").is_ok());
        assert!(JobOwner::new("with space").is_err());
    }

    #[test]
    fn states_round_trip_through_text() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        assert!("done".parse::<JobState>().is_err());
        assert!(JobState::Canceled.is_final());
        assert!(!JobState::Running.is_final());
    }
}
