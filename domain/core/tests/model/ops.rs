//! The operations and their strategies.

use proptest::prelude::*;
use tarn_model::MergeStrategy;

/// Paths: a small alphabet so that collisions, prefixes and common prefixes happen.
pub(crate) const PATHS: [&str; 10] = [
    "a", "a/b", "a/b/c", "a/c", "b/x", "b/y", "c", "d/e/f", "d/g", "e",
];
const BRANCHES: [&str; 3] = ["main", "dev", "feat"];
const TAGS: [&str; 2] = ["v1", "v2"];
const RESET_PREFIXES: [&str; 5] = ["", "a", "a/", "b", "d/"];

#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// `branch~k` (`branch` when k = 0).
    Branch(&'static str, u32),
    /// The full id of the i-th newest commit (0: the newest; modulo the
    /// number of commits).
    Commit(usize),
    /// The first 12 hex digits of the i-th newest commit's id.
    Prefix(usize),
    /// `branch^n`.
    Parent(&'static str, u32),
    /// A tag.
    Tag(&'static str),
    /// `branch@`: the head commit.
    Committed(&'static str),
    /// `branch$`: the staging view, which has no commit.
    Staging(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) enum Scope {
    All,
    Object(&'static str),
    Prefix(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Stage {
        branch: &'static str,
        path: &'static str,
        content: u8,
    },
    Delete {
        branch: &'static str,
        path: &'static str,
    },
    /// Generated only: becomes a `Delete` of the n-th path the branch shows.
    DeleteExisting {
        branch: &'static str,
        nth: usize,
    },
    Commit {
        branch: &'static str,
        allow_empty: bool,
    },
    CreateBranch {
        name: &'static str,
        from: Target,
    },
    DeleteBranch {
        name: &'static str,
    },
    HardReset {
        branch: &'static str,
        target: Target,
    },
    Merge {
        source: Target,
        dest: &'static str,
        strategy: MergeStrategy,
        squash: bool,
        allow_empty: bool,
    },
    CreateTag {
        name: &'static str,
        target: Target,
    },
    DeleteTag {
        name: &'static str,
    },
    Reset {
        branch: &'static str,
        scope: Scope,
    },
    Revert {
        branch: &'static str,
        target: Target,
        parent: Option<u32>,
    },
    CherryPick {
        branch: &'static str,
        target: Target,
        parent: Option<u32>,
    },
    /// A commit that stopped after sealing: the branch's staging token, if
    /// it holds anything, moves to the front of its sealed tokens and a fresh
    /// one takes its place. Reads then merge several tokens, newest first.
    Seal {
        branch: &'static str,
    },
    /// Compaction of the layered trees at every branch head: nothing a
    /// user sees may change, and later commits start from the folded trees.
    Compact,
    /// The base values of the tree at a branch's head are written: nothing
    /// a user sees may change (diffs read them instead of the base).
    Describe {
        branch: &'static str,
    },
}

fn branch() -> impl Strategy<Value = &'static str> {
    prop_oneof![3 => Just(BRANCHES[0]), 3 => Just(BRANCHES[1]), 2 => Just(BRANCHES[2])]
}

fn path() -> impl Strategy<Value = &'static str> {
    prop::sample::select(PATHS.to_vec())
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        4 => (branch(), prop_oneof![3 => Just(0u32), 2 => Just(1), 1 => Just(2)])
            .prop_map(|(b, k)| Target::Branch(b, k)),
        2 => (0usize..64).prop_map(Target::Commit),
        1 => (0usize..64).prop_map(Target::Prefix),
        1 => (branch(), 1u32..3).prop_map(|(b, n)| Target::Parent(b, n)),
        1 => tag().prop_map(Target::Tag),
        1 => branch().prop_map(Target::Committed),
        1 => branch().prop_map(Target::Staging),
    ]
}

fn tag() -> impl Strategy<Value = &'static str> {
    prop::sample::select(TAGS.to_vec())
}

/// A merge source: mostly a branch head.
fn source() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => branch().prop_map(|b| Target::Branch(b, 0)),
        1 => branch().prop_map(|b| Target::Branch(b, 1)),
        1 => (0usize..64).prop_map(Target::Commit),
        1 => tag().prop_map(Target::Tag),
    ]
}

fn parent_number() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![3 => Just(None), 1 => Just(Some(1)), 1 => Just(Some(2))]
}

fn op() -> impl Strategy<Value = Op> {
    let strategy = prop::sample::select(vec![
        MergeStrategy::None,
        MergeStrategy::SourceWins,
        MergeStrategy::DestWins,
    ]);
    let scope = prop_oneof![
        Just(Scope::All),
        path().prop_map(Scope::Object),
        prop::sample::select(RESET_PREFIXES.to_vec()).prop_map(Scope::Prefix),
    ];
    prop_oneof![
        8 => (branch(), path(), 0u8..4)
            .prop_map(|(branch, path, content)| Op::Stage { branch, path, content }),
        1 => (branch(), path()).prop_map(|(branch, path)| Op::Delete { branch, path }),
        3 => (branch(), 0usize..8).prop_map(|(branch, nth)| Op::DeleteExisting { branch, nth }),
        6 => (branch(), prop::bool::weighted(0.2))
            .prop_map(|(branch, allow_empty)| Op::Commit { branch, allow_empty }),
        2 => (branch(), target()).prop_map(|(name, from)| Op::CreateBranch { name, from }),
        1 => branch().prop_map(|name| Op::DeleteBranch { name }),
        1 => (branch(), target()).prop_map(|(branch, target)| Op::HardReset { branch, target }),
        6 => (
            source(),
            branch(),
            strategy,
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.15),
        )
            .prop_map(|(source, dest, strategy, squash, allow_empty)| Op::Merge {
                source,
                dest,
                strategy,
                squash,
                allow_empty,
            }),
        1 => (tag(), target()).prop_map(|(name, target)| Op::CreateTag { name, target }),
        1 => tag().prop_map(|name| Op::DeleteTag { name }),
        2 => (branch(), scope).prop_map(|(branch, scope)| Op::Reset { branch, scope }),
        2 => (branch(), target(), parent_number())
            .prop_map(|(branch, target, parent)| Op::Revert { branch, target, parent }),
        2 => (branch(), target(), parent_number())
            .prop_map(|(branch, target, parent)| Op::CherryPick { branch, target, parent }),
        3 => branch().prop_map(|branch| Op::Seal { branch }),
        3 => Just(Op::Compact),
        4 => branch().prop_map(|branch| Op::Describe { branch }),
    ]
}

/// A few stages (or deletes) on one branch, then a commit of it.
fn burst() -> impl Strategy<Value = Vec<Op>> {
    (
        branch(),
        prop::collection::vec((path(), 0u8..4, prop::bool::weighted(0.2)), 1..4),
    )
        .prop_map(|(branch, writes)| {
            let mut ops: Vec<Op> = writes
                .into_iter()
                .map(|(path, content, delete)| {
                    if delete {
                        Op::DeleteExisting {
                            branch,
                            nth: usize::from(content),
                        }
                    } else {
                        Op::Stage {
                            branch,
                            path,
                            content,
                        }
                    }
                })
                .collect();
            ops.push(Op::Commit {
                branch,
                allow_empty: false,
            });
            ops
        })
}

/// Sequences of at most 40 operations; most start by creating `feat` from
/// `main` (the harness starts with `main` and `dev` only).
pub(crate) fn ops() -> impl Strategy<Value = Vec<Op>> {
    let create_feat = Op::CreateBranch {
        name: BRANCHES[2],
        from: Target::Branch(BRANCHES[0], 0),
    };
    (
        prop::bool::weighted(0.7),
        prop::collection::vec(
            prop_oneof![2 => op().prop_map(|o| vec![o]), 1 => burst()],
            1..25,
        ),
    )
        .prop_map(move |(feat, groups)| {
            let first = feat.then(|| create_feat.clone());
            first
                .into_iter()
                .chain(groups.into_iter().flatten())
                .take(40)
                .collect()
        })
}
