//! Garbage collection rules (lakeFS's retention rules): how many days a
//! commit stays reachable for collection purposes once it left a branch's
//! history, by default and per branch. Kept as one repository setting.

use crate::error::{Error, Result};
use crate::Engine;
use crate::Entity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_model::{BranchName, RepositoryId};

const GC_RULES: &str = "gc_rules";

/// The longest retention a rule may ask for (about 100 years).
const MAX_DAYS: u32 = 36_500;

/// A repository's retention rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcRules {
    /// Days a commit is kept on branches without a rule of their own.
    pub default_retention_days: u32,
    /// Per-branch retention, in days.
    pub branches: BTreeMap<BranchName, u32>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    default_retention_days: u32,
    branches: BTreeMap<String, u32>,
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Internal(tarn_ports::PortError::internal(format!(
        "stored gc rules are unreadable: {e}"
    )))
}

fn decode(stored: Option<&str>) -> Result<Option<GcRules>> {
    // An empty value is a deleted rule set (settings are never removed).
    let Some(text) = stored.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let s: Stored = serde_json::from_str(text).map_err(corrupt)?;
    let branches = s
        .branches
        .into_iter()
        .map(|(b, d)| Ok((BranchName::new(b).map_err(corrupt)?, d)))
        .collect::<Result<_>>()?;
    Ok(Some(GcRules {
        default_retention_days: s.default_retention_days,
        branches,
    }))
}

fn check_days(what: &str, days: i64) -> Result<u32> {
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| {
            Error::invalid(
                "retention_days",
                format!("{what}: {days} days; retention is 0 to {MAX_DAYS} days"),
            )
        })
}

impl GcRules {
    /// Rules from the wire's signed numbers, checked: days are 0 to 36,500,
    /// branch names valid, no branch twice.
    pub fn new(default_days: i64, branches: Vec<(String, i64)>) -> Result<Self> {
        let mut out = BTreeMap::new();
        for (name, days) in branches {
            let branch = BranchName::new(&name)?;
            let days = check_days(&name, days)?;
            if out.insert(branch, days).is_some() {
                return Err(Error::invalid(
                    "branch_id",
                    format!("{name} has more than one rule"),
                ));
            }
        }
        Ok(Self {
            default_retention_days: check_days("default", default_days)?,
            branches: out,
        })
    }
}

impl Engine {
    /// The repository's rules; `NotFound` when none are set (as lakeFS).
    pub async fn gc_rules(&self, repo: &RepositoryId) -> Result<GcRules> {
        decode(self.read_setting(repo, GC_RULES).await?.as_deref())?
            .ok_or_else(|| Error::not_found(Entity::GcRules, repo))
    }

    /// Replaces the repository's rules.
    pub async fn set_gc_rules(&self, repo: &RepositoryId, rules: &GcRules) -> Result<()> {
        let stored = Stored {
            default_retention_days: rules.default_retention_days,
            branches: rules
                .branches
                .iter()
                .map(|(b, d)| (b.to_string(), *d))
                .collect(),
        };
        let value = serde_json::to_string(&stored).map_err(corrupt)?;
        self.update_setting(repo, GC_RULES, |_| Ok((Some(value.clone()), ())))
            .await
    }

    /// Removes the repository's rules (none set is fine, as lakeFS).
    pub async fn delete_gc_rules(&self, repo: &RepositoryId) -> Result<()> {
        self.update_setting(repo, GC_RULES, |stored| {
            let set = stored.is_some_and(|s| !s.is_empty());
            Ok((set.then(String::new), ()))
        })
        .await
    }
}
