//! The naive model: one tree per commit, a staging map per branch, tags and
//! the commit DAG, and what every operation should do to them.

use crate::ops::{Op, Scope, Target};
use crate::SEMANTICS;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tarn_domain::{DiffKind, Error};
use tarn_model::{
    BlockKey, CommitId, Entry, MergeStrategy, MetaRangeId, PhysicalAddress, Timestamp,
};

// ---------------------------------------------------------------------------
// Values

/// A staged value: `content` decides the identity (checksum and size),
/// `serial` the address, so staging the same content again is "no change".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Val {
    pub(crate) content: u8,
    pub(crate) serial: u32,
}

fn same(a: Option<&Val>, b: Option<&Val>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.content == y.content,
        _ => false,
    }
}

pub(crate) fn entry_of(v: &Val) -> Entry {
    Entry {
        address: PhysicalAddress::Relative(BlockKey::new(format!("data/{:06}", v.serial)).unwrap()),
        size: 100 + u64::from(v.content),
        checksum: format!("{:032x}", v.content),
        last_modified: Timestamp::from_unix_seconds(1_600_000_000),
        content_type: None,
        metadata: BTreeMap::new(),
        tags: BTreeMap::new(),
    }
}

pub(crate) type Tree = BTreeMap<String, Val>;

// ---------------------------------------------------------------------------
// Outcomes

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    NotFound,
    AlreadyExists,
    InvalidInput,
    DirtyBranch,
    NoChanges,
    Conflict(Vec<String>),
    DefaultBranch,
    Other(String),
}

pub(crate) fn outcome<T>(r: &Result<T, Error>) -> Outcome {
    match r {
        Ok(_) => Outcome::Ok,
        Err(Error::NotFound { .. }) => Outcome::NotFound,
        Err(Error::AlreadyExists { .. }) => Outcome::AlreadyExists,
        Err(Error::InvalidInput { .. }) => Outcome::InvalidInput,
        Err(Error::DirtyBranch) => Outcome::DirtyBranch,
        Err(Error::NoChanges) => Outcome::NoChanges,
        Err(Error::Conflict { paths }) => {
            Outcome::Conflict(paths.iter().map(ToString::to_string).collect())
        }
        Err(Error::DefaultBranch(_)) => Outcome::DefaultBranch,
        Err(e) => Outcome::Other(e.to_string()),
    }
}

// ---------------------------------------------------------------------------
// The model

#[derive(Debug, Clone)]
pub(crate) struct MCommit {
    pub(crate) id: CommitId,
    pub(crate) tree: Tree,
    pub(crate) parents: Vec<usize>,
    pub(crate) generation: u64,
    pub(crate) date: Timestamp,
    pub(crate) meta_range: MetaRangeId,
}

#[derive(Debug, Clone)]
pub(crate) struct MBranch {
    pub(crate) head: usize,
    /// `None`: a tombstone.
    pub(crate) staging: BTreeMap<String, Option<Val>>,
    /// The branch has sealed tokens (`Op::Seal`), even emptied ones: it is
    /// dirty until a commit or a reset of everything clears them.
    pub(crate) sealed: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    pub(crate) commits: Vec<MCommit>,
    pub(crate) by_id: HashMap<CommitId, usize>,
    pub(crate) branches: BTreeMap<&'static str, MBranch>,
    pub(crate) tags: BTreeMap<&'static str, usize>,
}

/// A commit the model expects an operation to create.
pub(crate) struct NewCommit {
    pub(crate) branch: &'static str,
    pub(crate) tree: Tree,
    pub(crate) parents: Vec<usize>,
}

enum Res {
    Keep,
    Take(Option<Val>),
    Conflict,
}

/// lakeFS's merge table by identity.
fn three_way(base: Option<&Val>, src: Option<&Val>, dst: Option<&Val>, s: MergeStrategy) -> Res {
    if same(src, base) || same(src, dst) {
        Res::Keep
    } else if same(dst, base) {
        Res::Take(src.copied())
    } else {
        match s {
            MergeStrategy::None => Res::Conflict,
            MergeStrategy::SourceWins => Res::Take(src.copied()),
            MergeStrategy::DestWins => Res::Keep,
        }
    }
}

/// Applies changes to a tree; a change that keeps a path's identity keeps the
/// old record. Returns the tree and how many paths changed identity.
fn apply(base: &Tree, changes: impl IntoIterator<Item = (String, Option<Val>)>) -> (Tree, u64) {
    let mut tree = base.clone();
    let mut changed = 0;
    for (p, v) in changes {
        match (v, base.get(&p)) {
            (Some(n), Some(o)) if n.content == o.content => {}
            (Some(n), _) => {
                tree.insert(p, n);
                changed += 1;
            }
            (None, Some(_)) => {
                tree.remove(&p);
                changed += 1;
            }
            (None, None) => {}
        }
    }
    (tree, changed)
}

/// The changes that bring `from → to` onto `dest`, or the conflicting paths.
fn resolve_changes(
    from: &Tree,
    to: &Tree,
    dest: &Tree,
    s: MergeStrategy,
) -> Result<Vec<(String, Option<Val>)>, Outcome> {
    let paths: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    let mut out = Vec::new();
    let mut conflicts = Vec::new();
    for p in paths {
        let (b, t) = (from.get(p), to.get(p));
        if same(b, t) {
            continue;
        }
        match three_way(b, t, dest.get(p), s) {
            Res::Keep => {}
            Res::Take(v) => out.push((p.clone(), v)),
            Res::Conflict => conflicts.push(p.clone()),
        }
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(Outcome::Conflict(conflicts))
    }
}

impl Model {
    pub(crate) fn branch(&self, name: &str) -> Result<&MBranch, Outcome> {
        self.branches.get(name).ok_or(Outcome::NotFound)
    }

    pub(crate) fn head_tree(&self, name: &str) -> &Tree {
        &self.commits[self.branches[name].head].tree
    }

    /// Staging over the head commit.
    pub(crate) fn view(&self, name: &str) -> Tree {
        let b = &self.branches[name];
        let mut t = self.commits[b.head].tree.clone();
        for (p, v) in &b.staging {
            match v {
                Some(v) => t.insert(p.clone(), *v),
                None => t.remove(p),
            };
        }
        t
    }

    pub(crate) fn resolve(&self, t: &Target) -> Result<usize, Outcome> {
        match t {
            Target::Branch(b, k) => {
                let mut c = self.branch(b)?.head;
                for _ in 0..*k {
                    c = *self.commits[c].parents.first().ok_or(Outcome::NotFound)?;
                }
                Ok(c)
            }
            Target::Commit(i) | Target::Prefix(i) => Ok(self.nth_newest(*i)),
            Target::Parent(b, n) => {
                let c = self.branch(b)?.head;
                let p = self.commits[c].parents.get(*n as usize - 1);
                p.copied().ok_or(Outcome::NotFound)
            }
            Target::Tag(t) => self.tags.get(t).copied().ok_or(Outcome::NotFound),
            Target::Committed(b) => Ok(self.branch(b)?.head),
            Target::Staging(b) => {
                self.branch(b)?;
                Err(Outcome::InvalidInput)
            }
        }
    }

    pub(crate) fn ref_string(&self, t: &Target) -> String {
        match t {
            Target::Branch(b, 0) => (*b).to_owned(),
            Target::Branch(b, k) => format!("{b}~{k}"),
            Target::Commit(i) => self.commits[self.nth_newest(*i)].id.to_string(),
            Target::Prefix(i) => self.commits[self.nth_newest(*i)].id.as_str()[..12].to_owned(),
            Target::Parent(b, n) => format!("{b}^{n}"),
            Target::Tag(t) => (*t).to_owned(),
            Target::Committed(b) => format!("{b}@"),
            Target::Staging(b) => format!("{b}$"),
        }
    }

    fn nth_newest(&self, i: usize) -> usize {
        self.commits.len() - 1 - i % self.commits.len()
    }

    fn ancestors(&self, c: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![c];
        while let Some(x) = todo.pop() {
            if seen.insert(x) {
                todo.extend(self.commits[x].parents.iter().copied());
            }
        }
        seen
    }

    /// The common ancestor of highest generation (ties: highest id).
    pub(crate) fn merge_base(&self, a: usize, b: usize) -> usize {
        let other = self.ancestors(b);
        self.ancestors(a)
            .into_iter()
            .filter(|x| other.contains(x))
            .max_by_key(|&x| (self.commits[x].generation, self.commits[x].id.clone()))
            .unwrap()
    }

    pub(crate) fn first_parent_chain(&self, c: usize) -> Vec<usize> {
        let mut out = vec![c];
        let mut c = c;
        while let Some(&p) = self.commits[c].parents.first() {
            out.push(p);
            c = p;
        }
        out
    }

    /// All ancestors in log order: generation, date, id, newest first.
    pub(crate) fn log(&self, c: usize) -> Vec<usize> {
        let mut all: Vec<usize> = self.ancestors(c).into_iter().collect();
        all.sort_by_key(|&x| {
            let m = &self.commits[x];
            std::cmp::Reverse((m.generation, m.date, m.id.clone()))
        });
        all
    }

    /// The tree of the parent a revert or cherry-pick of `c` is taken against.
    fn picked_parent(&self, c: usize, n: Option<u32>) -> Result<usize, Outcome> {
        let parents = &self.commits[c].parents;
        let n = match (parents.len(), n) {
            (0, _) => return Err(Outcome::InvalidInput),
            (1, None | Some(0) | Some(1)) => 1,
            (_, None | Some(0)) => return Err(Outcome::InvalidInput),
            (count, Some(n)) if n as usize > count => return Err(Outcome::InvalidInput),
            (_, Some(n)) => n as usize,
        };
        Ok(parents[n - 1])
    }

    fn clean_head(&self, name: &str) -> Result<usize, Outcome> {
        let b = self.branch(name)?;
        let dirty = if SEMANTICS.dirty_means_uncommitted_diff {
            !branch_changes(&self.commits[b.head].tree, &b.staging).is_empty()
        } else {
            !b.staging.is_empty() || b.sealed
        };
        if dirty {
            return Err(Outcome::DirtyBranch);
        }
        Ok(b.head)
    }

    /// Applies `op` to the model. `Err` is the expected failure (the model
    /// may still have changed: a commit of no-op changes drops them).
    pub(crate) fn apply_op(&mut self, op: &Op, val: Val) -> Result<Option<NewCommit>, Outcome> {
        let result = self.apply_op_inner(op, val);
        // An operation that moves a clean branch drops whatever no-op
        // changes it had staged.
        let moved = match op {
            Op::HardReset { branch, .. }
            | Op::Revert { branch, .. }
            | Op::CherryPick { branch, .. } => Some(branch),
            Op::Merge { dest, .. } => Some(dest),
            _ => None,
        };
        if let (Ok(_), Some(name)) = (&result, moved) {
            if let Some(b) = self.branches.get_mut(name) {
                b.staging.clear();
            }
        }
        result
    }

    fn apply_op_inner(&mut self, op: &Op, val: Val) -> Result<Option<NewCommit>, Outcome> {
        match op {
            Op::Stage { branch, path, .. } => {
                let b = self.branches.get_mut(branch).ok_or(Outcome::NotFound)?;
                b.staging.insert((*path).to_owned(), Some(val));
                Ok(None)
            }
            Op::DeleteExisting { .. } => Err(Outcome::Other("not concrete".to_owned())),
            Op::Delete { branch, path } => {
                self.branch(branch)?;
                if !self.view(branch).contains_key(*path) {
                    return Err(Outcome::NotFound);
                }
                let b = self.branches.get_mut(branch).ok_or(Outcome::NotFound)?;
                b.staging.insert((*path).to_owned(), None);
                Ok(None)
            }
            Op::Commit {
                branch,
                allow_empty,
            } => {
                let head = self.branch(branch)?.head;
                let b = self.branches.get_mut(branch).ok_or(Outcome::NotFound)?;
                // Whatever the outcome, the commit takes the sealed tokens.
                b.sealed = false;
                if b.staging.is_empty() && !allow_empty {
                    return Err(Outcome::NoChanges);
                }
                let (tree, changed) = apply(&self.commits[head].tree, b.staging.clone());
                if changed == 0 && !allow_empty {
                    if !SEMANTICS.keep_noop_staging {
                        b.staging.clear();
                    }
                    return Err(Outcome::NoChanges);
                }
                b.staging.clear();
                Ok(Some(NewCommit {
                    branch,
                    tree,
                    parents: vec![head],
                }))
            }
            Op::CreateBranch { name, from } => {
                let c = self.resolve(from)?;
                if self.branches.contains_key(name) {
                    return Err(Outcome::AlreadyExists);
                }
                self.branches.insert(
                    name,
                    MBranch {
                        head: c,
                        staging: BTreeMap::new(),
                        sealed: false,
                    },
                );
                Ok(None)
            }
            Op::DeleteBranch { name } => {
                if *name == "main" {
                    return Err(Outcome::DefaultBranch);
                }
                self.branches.remove(name).ok_or(Outcome::NotFound)?;
                Ok(None)
            }
            Op::HardReset { branch, target } => {
                let c = self.resolve(target)?;
                self.clean_head(branch)?;
                self.branches.get_mut(branch).ok_or(Outcome::NotFound)?.head = c;
                Ok(None)
            }
            Op::Merge {
                source,
                dest,
                strategy,
                squash,
                allow_empty,
            } => {
                // The engine compares the strings: `main` into `main` is
                // refused, `main@` or `main`'s commit id into `main` is not.
                if self.ref_string(source) == *dest {
                    return Err(Outcome::InvalidInput);
                }
                let src = self.resolve(source)?;
                let head = self.clean_head(dest)?;
                let base = self.merge_base(head, src);
                let head_tree = &self.commits[head].tree;
                if SEMANTICS.merge_commits_when_source_changed {
                    let (base_tree, src_tree) = (&self.commits[base].tree, &self.commits[src].tree);
                    // lakeFS compares metarange ids, and its first commit has
                    // none: only that commit itself equals it.
                    let first = self.commits[base].parents.is_empty() && base_tree.is_empty();
                    let unchanged = if first {
                        src == base
                    } else {
                        src_tree == base_tree
                    };
                    if unchanged && !allow_empty {
                        return Err(Outcome::NoChanges);
                    }
                    let tree = if head_tree == base_tree {
                        src_tree.clone()
                    } else {
                        let changes = resolve_changes(base_tree, src_tree, head_tree, *strategy)?;
                        apply(head_tree, changes).0
                    };
                    return Ok(Some(NewCommit {
                        branch: dest,
                        tree,
                        parents: if *squash { vec![head] } else { vec![head, src] },
                    }));
                }
                if base == src && !allow_empty {
                    return Err(Outcome::NoChanges);
                }
                let tree = if base == head {
                    self.commits[src].tree.clone()
                } else {
                    let changes = resolve_changes(
                        &self.commits[base].tree,
                        &self.commits[src].tree,
                        head_tree,
                        *strategy,
                    )?;
                    apply(head_tree, changes).0
                };
                if tree == *head_tree && !allow_empty {
                    return Err(Outcome::NoChanges);
                }
                Ok(Some(NewCommit {
                    branch: dest,
                    tree,
                    parents: if *squash { vec![head] } else { vec![head, src] },
                }))
            }
            Op::CreateTag { name, target } => {
                let c = self.resolve(target)?;
                if self.tags.contains_key(name) {
                    return Err(Outcome::AlreadyExists);
                }
                self.tags.insert(name, c);
                Ok(None)
            }
            Op::DeleteTag { name } => {
                self.tags.remove(name).ok_or(Outcome::NotFound)?;
                Ok(None)
            }
            Op::Compact => Ok(None),
            Op::Describe { branch } => {
                self.branches.get(branch).ok_or(Outcome::NotFound)?;
                Ok(None)
            }
            Op::Seal { branch } => {
                let b = self.branches.get_mut(branch).ok_or(Outcome::NotFound)?;
                // Only a token that holds something is sealed; staging is
                // empty only if every token is.
                b.sealed |= !b.staging.is_empty();
                Ok(None)
            }
            Op::Reset { branch, scope } => {
                let b = self.branches.get_mut(branch).ok_or(Outcome::NotFound)?;
                match scope {
                    Scope::All => {
                        b.staging.clear();
                        b.sealed = false;
                    }
                    Scope::Object(p) => {
                        b.staging.remove(*p);
                    }
                    Scope::Prefix(pre) => b.staging.retain(|p, _| !p.starts_with(pre)),
                }
                Ok(None)
            }
            Op::Revert {
                branch,
                target,
                parent,
            }
            | Op::CherryPick {
                branch,
                target,
                parent,
            } => {
                let c = self.resolve(target)?;
                let p = self.picked_parent(c, *parent)?;
                let head = self.clean_head(branch)?;
                let (from, to) = if matches!(op, Op::Revert { .. }) {
                    (c, p)
                } else {
                    (p, c)
                };
                let head_tree = &self.commits[head].tree;
                let (from_tree, to_tree) = (&self.commits[from].tree, &self.commits[to].tree);
                if SEMANTICS.pick_commits_when_commit_changed {
                    if from_tree == to_tree {
                        return Err(Outcome::NoChanges);
                    }
                    let tree = if head_tree == from_tree {
                        to_tree.clone()
                    } else {
                        let changes =
                            resolve_changes(from_tree, to_tree, head_tree, MergeStrategy::None)?;
                        apply(head_tree, changes).0
                    };
                    return Ok(Some(NewCommit {
                        branch,
                        tree,
                        parents: vec![head],
                    }));
                }
                let changes = resolve_changes(from_tree, to_tree, head_tree, MergeStrategy::None)?;
                let (tree, changed) = apply(head_tree, changes);
                if changed == 0 {
                    return Err(Outcome::NoChanges);
                }
                Ok(Some(NewCommit {
                    branch,
                    tree,
                    parents: vec![head],
                }))
            }
        }
    }
}

/// A diff result.
pub(crate) type Diffed = (String, DiffKind, Option<Entry>);

/// The difference of two trees by identity: added and changed paths carry the
/// right value, removed ones the left.
pub(crate) fn tree_changes(l: &Tree, r: &Tree) -> Vec<Diffed> {
    let paths: BTreeSet<&String> = l.keys().chain(r.keys()).collect();
    paths
        .into_iter()
        .filter_map(|p| change(p, l.get(p), r.get(p)))
        .collect()
}

/// lakeFS's three-dot compare of `l` and `r` with merge base `base`: of the
/// paths that differ between them, those only `r` changed since the base are
/// the plain change, those only `l` changed are left out, and those both
/// changed are conflicts (with `r`'s value, or `l`'s where `r` removed it).
pub(crate) fn compare_changes(l: &Tree, r: &Tree, base: &Tree) -> Vec<Diffed> {
    let same = |a: Option<&Val>, b: Option<&Val>| match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.content == y.content,
        _ => false,
    };
    tree_changes(l, r)
        .into_iter()
        .filter_map(|(p, kind, e)| {
            let was = base.get(&p);
            if same(r.get(&p), was) {
                return None;
            }
            if same(l.get(&p), was) {
                return Some((p, kind, e));
            }
            let v = r.get(&p).or_else(|| l.get(&p)).map(entry_of);
            Some((p, DiffKind::Conflict, v))
        })
        .collect()
}

/// Uncommitted changes: staging against the head tree.
pub(crate) fn branch_changes(head: &Tree, staging: &BTreeMap<String, Option<Val>>) -> Vec<Diffed> {
    staging
        .iter()
        .filter_map(|(p, v)| change(p, head.get(p), v.as_ref()))
        .collect()
}

fn change(p: &str, l: Option<&Val>, r: Option<&Val>) -> Option<Diffed> {
    let (kind, v) = match (l, r) {
        (None, None) => return None,
        (Some(a), Some(b)) if a.content == b.content => return None,
        (None, Some(b)) => (DiffKind::Added, b),
        (Some(a), None) => (DiffKind::Removed, a),
        (Some(_), Some(b)) => (DiffKind::Changed, b),
    };
    Some((p.to_owned(), kind, Some(entry_of(v))))
}
