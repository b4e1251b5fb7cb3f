//! Which commits garbage collection keeps, as lakeFS decides it: walks along
//! first parents from every branch head and from every dangling commit
//! (one that is nobody's first parent); a head is always kept, any other
//! commit while the first-parent child it is under was created within the
//! walk's retention. Where walks meet, the longest retention wins. Each kept
//! commit also learns which branches keep it, for the per-branch report.

use std::collections::{HashMap, HashSet};
use tarn_model::{CommitId, MetaRangeId, Timestamp};

/// Kept by more than one branch.
pub(crate) const SHARED: u32 = u32::MAX;
/// Kept by no branch (a dangling chain, or in flight).
pub(crate) const NOBODY: u32 = u32::MAX - 1;

/// Who keeps something kept by `a` and by `b`.
pub(crate) fn combine(a: u32, b: u32) -> u32 {
    if a == b {
        a
    } else {
        SHARED
    }
}

/// What the walks need of a commit.
#[derive(Debug, Clone)]
pub(crate) struct CommitNode {
    pub first_parent: Option<CommitId>,
    pub created: Timestamp,
    pub meta_range: MetaRangeId,
}

/// One walk's start: a branch head (with its owner tag and the oldest
/// creation time its retention accepts) or a dangling commit.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    pub commit: CommitId,
    pub owner: u32,
    /// A child created before this lets its parent go; `None`: keep all.
    pub threshold: Option<Timestamp>,
    /// Heads are kept whatever their age; dangling commits only while
    /// their own creation is within the threshold.
    pub is_head: bool,
}

/// A kept commit: the owner tag of the branches that keep it.
pub(crate) type Kept = HashMap<CommitId, u32>;

/// Runs every walk over `commits`; returns the kept commits. Starts that
/// name unknown commits are ignored (a head always exists in practice).
pub(crate) fn kept_commits(commits: &HashMap<CommitId, CommitNode>, starts: &[Start]) -> Kept {
    let mut kept: Kept = HashMap::new();
    // The earliest threshold each commit was reached with (None = -inf).
    let mut reached: HashMap<CommitId, Option<Timestamp>> = HashMap::new();
    for start in starts {
        let Some(node) = commits.get(&start.commit) else {
            continue;
        };
        if !start.is_head && !within(node.created, start.threshold) {
            continue;
        }
        let mut current = start.commit.clone();
        loop {
            let improves = match reached.get(&current) {
                None => true,
                Some(seen) => earlier(start.threshold, *seen),
            };
            let owner_changes = kept
                .get(&current)
                .is_none_or(|o| combine(*o, start.owner) != *o);
            if !improves && !owner_changes {
                break;
            }
            if improves {
                reached.insert(current.clone(), start.threshold);
            }
            let entry = kept.entry(current.clone()).or_insert(start.owner);
            *entry = combine(*entry, start.owner);
            let Some(node) = commits.get(&current) else {
                break;
            };
            // The parent is kept while this child is recent enough.
            match &node.first_parent {
                Some(parent) if within(node.created, start.threshold) => {
                    current = parent.clone();
                }
                _ => break,
            }
        }
    }
    kept
}

/// Dangling commits: not the first parent of any commit, not a head.
pub(crate) fn dangling(
    commits: &HashMap<CommitId, CommitNode>,
    heads: &HashSet<CommitId>,
) -> Vec<CommitId> {
    let parents: HashSet<&CommitId> = commits
        .values()
        .filter_map(|c| c.first_parent.as_ref())
        .collect();
    let mut out: Vec<CommitId> = commits
        .keys()
        .filter(|id| !parents.contains(id) && !heads.contains(*id))
        .cloned()
        .collect();
    out.sort();
    out
}

fn within(created: Timestamp, threshold: Option<Timestamp>) -> bool {
    threshold.is_none_or(|t| created >= t)
}

/// Whether threshold `a` keeps more than `b` (is earlier).
fn earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> bool {
    match (a, b) {
        (None, None) => false,
        (None, Some(_)) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a < b,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn id(n: u32) -> CommitId {
        CommitId::new(format!("{n:064x}")).unwrap()
    }

    /// A chain of commits 1..=n, commit k created at day k, each the first
    /// parent of the next.
    fn chain(n: u32) -> HashMap<CommitId, CommitNode> {
        (1..=n)
            .map(|k| {
                (
                    id(k),
                    CommitNode {
                        first_parent: (k > 1).then(|| id(k - 1)),
                        created: day(k as i64),
                        meta_range: MetaRangeId::new(format!("{k:064x}")).unwrap(),
                    },
                )
            })
            .collect()
    }

    fn day(d: i64) -> Timestamp {
        Timestamp::from_unix_seconds(d * 86_400)
    }

    fn head(n: u32, owner: u32, threshold: Option<i64>) -> Start {
        Start {
            commit: id(n),
            owner,
            threshold: threshold.map(day),
            is_head: true,
        }
    }

    fn sorted(k: &Kept) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = (1..=100)
            .filter_map(|n| k.get(&id(n)).map(|o| (n, *o)))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_head_keeps_its_window_and_the_first_commit_older_than_it() {
        let commits = chain(10);
        // Children created on day 7 or later keep their parents: 10..7 keep
        // 9..6; commit 6 (day 6) lets 5 go.
        let kept = kept_commits(&commits, &[head(10, 0, Some(7))]);
        assert_eq!(sorted(&kept), vec![(6, 0), (7, 0), (8, 0), (9, 0), (10, 0)]);
    }

    #[test]
    fn a_head_is_kept_whatever_its_age_and_no_rules_keep_everything() {
        let commits = chain(4);
        let kept = kept_commits(&commits, &[head(4, 0, Some(100))]);
        assert_eq!(sorted(&kept), vec![(4, 0)]);
        let all = kept_commits(&commits, &[head(4, 0, None)]);
        assert_eq!(sorted(&all).len(), 4);
    }

    #[test]
    fn the_longest_retention_wins_and_shared_history_is_shared() {
        let mut commits = chain(10);
        // Branch 1 forks from 8 with one commit of its own (11, day 11).
        commits.insert(
            id(11),
            CommitNode {
                first_parent: Some(id(8)),
                created: day(11),
                meta_range: MetaRangeId::new(format!("{:064x}", 11)).unwrap(),
            },
        );
        // Branch 0 (head 10) keeps 2 days, branch 1 (head 11) keeps since day 3.
        let kept = kept_commits(&commits, &[head(10, 0, Some(9)), head(11, 1, Some(3))]);
        assert_eq!(
            sorted(&kept),
            vec![
                (2, 1),
                (3, 1),
                (4, 1),
                (5, 1),
                (6, 1),
                (7, 1),
                (8, SHARED),
                (9, 0),
                (10, 0),
                (11, 1)
            ]
        );
    }

    #[test]
    fn dangling_chains_count_from_their_own_date() {
        let commits = chain(5);
        let heads = HashSet::new();
        assert_eq!(dangling(&commits, &heads), vec![id(5)]);
        let start = |t| Start {
            commit: id(5),
            owner: NOBODY,
            threshold: Some(day(t)),
            is_head: false,
        };
        assert!(kept_commits(&commits, &[start(6)]).is_empty());
        assert_eq!(
            sorted(&kept_commits(&commits, &[start(4)])),
            vec![(3, NOBODY), (4, NOBODY), (5, NOBODY)]
        );
    }
}
