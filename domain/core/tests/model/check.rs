//! Every read of the engine (stats, listings, diffs, merge bases, logs,
//! branches, tags and old commits) against the model.

use crate::naive::{branch_changes, compare_changes, entry_of, tree_changes, Diffed, Tree, Val};
use crate::ops::PATHS;
use crate::{bn, fail, op_path, Harness};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tarn_domain::{DiffKind, DiffRequest, Error, ListRequest, Listing, LogRequest, Page};
use tarn_model::{CommitId, Entry};

/// A paged read: prefix, delimiter, page size, and the `after` to start from.
type Read = (
    &'static str,
    Option<&'static str>,
    usize,
    Option<&'static str>,
);
/// The paged listings checked on every branch.
const LISTINGS: [Read; 14] = [
    ("", None, 1000, None),
    ("", None, 2, None),
    ("", Some("/"), 2, None),
    ("", Some("/"), 1, None),
    ("a/", Some("/"), 1, None),
    ("", Some("/"), 1000, None),
    ("", Some("b/"), 1, None),
    ("a", Some("/"), 1, None),
    ("a/", None, 2, None),
    ("d/", Some("/"), 1, None),
    ("", Some("/"), 1000, Some("a/b")),
    ("", Some("/"), 2, Some("a/")),
    ("", None, 2, Some("b")),
    ("a", None, 1, Some("a/b")),
];
/// The paged diffs.
const DIFFS: [Read; 6] = [
    ("", None, 1000, None),
    ("", None, 2, None),
    ("", Some("/"), 1, None),
    ("a/", None, 1, None),
    ("", Some("/"), 1000, Some("a/b")),
    ("", None, 2, Some("c")),
];

impl Harness {
    pub(crate) async fn check_all(&self) -> Result<(), TestCaseError> {
        let m = &self.model;
        // Branches and their heads.
        let page = self
            .engine
            .list_branches(&self.repo, "", None, 1000)
            .await
            .map_err(|e| fail(format!("list_branches: {e}")))?;
        let got: Vec<(String, CommitId)> = page
            .items
            .iter()
            .map(|b| (b.name.to_string(), b.commit_id.clone()))
            .collect();
        let want: Vec<(String, CommitId)> = m
            .branches
            .iter()
            .map(|(n, b)| ((*n).to_owned(), m.commits[b.head].id.clone()))
            .collect();
        prop_assert_eq!(got, want, "branches");
        let page = self
            .engine
            .list_tags(&self.repo, "", None, 1000)
            .await
            .map_err(|e| fail(format!("list_tags: {e}")))?;
        let got: Vec<(String, CommitId)> = page
            .items
            .iter()
            .map(|t| (t.name.to_string(), t.commit_id.clone()))
            .collect();
        let want: Vec<(String, CommitId)> = m
            .tags
            .iter()
            .map(|(n, &c)| ((*n).to_owned(), m.commits[c].id.clone()))
            .collect();
        prop_assert_eq!(got, want, "tags");

        for (&name, b) in &m.branches {
            let view = m.view(name);
            let head = &m.commits[b.head];
            let staged: Tree = b
                .staging
                .iter()
                .filter_map(|(p, v)| v.map(|v| (p.clone(), v)))
                .collect();
            let parent = head.parents.first().map(|&p| &m.commits[p].tree);
            for p in PATHS {
                self.check_stat(name, p, view.get(p)).await?;
                self.check_stat(&format!("{name}@"), p, head.tree.get(p))
                    .await?;
                self.check_stat(&format!("{name}$"), p, staged.get(p))
                    .await?;
                self.check_stat(&format!("{name}~1"), p, parent.and_then(|t| t.get(p)))
                    .await?;
            }
            for (prefix, delim, amount, start) in LISTINGS {
                let got = self.list(name, prefix, delim, amount, start).await?;
                let want = after(model_listing(&view, prefix, delim), start);
                prop_assert_eq!(
                    self.canon_all(got),
                    self.canon_all(want),
                    "list {} {:?} {:?} after {:?}",
                    name,
                    prefix,
                    delim,
                    start
                );
            }
            let views = [
                (format!("{name}@"), Some(&head.tree)),
                (format!("{name}~1"), parent),
                (format!("{name}$"), Some(&staged)),
            ];
            for (reference, tree) in views {
                let Some(tree) = tree else { continue };
                for (prefix, delim, amount) in [("", None, 1000), ("", Some("/"), 2)] {
                    let got = self.list(&reference, prefix, delim, amount, None).await?;
                    let want = model_listing(tree, prefix, delim);
                    prop_assert_eq!(
                        self.canon_all(got),
                        self.canon_all(want),
                        "list {} {:?} {:?}",
                        reference,
                        prefix,
                        delim
                    );
                }
            }
            // Uncommitted changes.
            let changes = branch_changes(&head.tree, &b.staging);
            for (prefix, delim, amount, start) in DIFFS {
                let got = self
                    .diff((prefix, delim, amount, start), |req| async move {
                        self.engine.diff_branch(&self.repo, &bn(name), &req).await
                    })
                    .await?;
                let want = after(group_changes(&changes, prefix, delim), start);
                prop_assert_eq!(
                    self.canon_all(got),
                    self.canon_all(want),
                    "diff_branch {} {:?} {:?} after {:?}",
                    name,
                    prefix,
                    delim,
                    start
                );
            }
            // What the head commit changed.
            if let Some(parent) = parent {
                let reference = format!("{name}~1");
                let got = self
                    .diff(("", None, 1000, None), |req| {
                        let reference = reference.clone();
                        async move {
                            self.engine
                                .diff_refs(&self.repo, &reference, name, false, &req)
                                .await
                        }
                    })
                    .await?;
                let want = group_changes(&tree_changes(parent, &head.tree), "", None);
                prop_assert_eq!(
                    self.canon_all(got),
                    self.canon_all(want),
                    "diff_refs {}~1..{}",
                    name,
                    name
                );
            }
            self.check_log(name, b.head).await?;
        }

        let names: Vec<&'static str> = m.branches.keys().copied().collect();
        for &l in &names {
            for &r in &names {
                if l == r {
                    continue;
                }
                let (lh, rh) = (m.branches[l].head, m.branches[r].head);
                let base = m.merge_base(lh, rh);
                let got = self
                    .engine
                    .find_merge_base(&self.repo, l, r)
                    .await
                    .map_err(|e| fail(format!("merge base {l} {r}: {e}")))?;
                prop_assert_eq!(&got.id, &m.commits[base].id, "merge base {} {}", l, r);
                let two = tree_changes(m.head_tree(l), m.head_tree(r));
                let three = compare_changes(m.head_tree(l), m.head_tree(r), &m.commits[base].tree);
                for (three_dot, want_all) in [(false, &two), (true, &three)] {
                    for (prefix, delim, amount, start) in DIFFS {
                        let got = self
                            .diff((prefix, delim, amount, start), |req| async move {
                                self.engine
                                    .diff_refs(&self.repo, l, r, three_dot, &req)
                                    .await
                            })
                            .await?;
                        let want = after(group_changes(want_all, prefix, delim), start);
                        prop_assert_eq!(
                            self.canon_all(got),
                            self.canon_all(want),
                            "diff_refs {} {} three_dot={} {:?}",
                            l,
                            r,
                            three_dot,
                            delim
                        );
                    }
                }
            }
        }
        Ok(())
    }

    async fn check_stat(
        &self,
        reference: &str,
        path: &str,
        want: Option<&Val>,
    ) -> Result<(), TestCaseError> {
        let got = self
            .engine
            .stat_object(&self.repo, reference, &op_path(path))
            .await;
        match (got, want) {
            (Ok(e), Some(v)) => {
                prop_assert_eq!(
                    self.canon(e),
                    self.canon(entry_of(v)),
                    "stat {} {}",
                    reference,
                    path
                );
            }
            (Err(Error::NotFound { .. }), None) => {}
            (got, want) => {
                return Err(fail(format!(
                    "stat {reference} {path}: engine {got:?}, model {want:?}"
                )))
            }
        }
        Ok(())
    }

    async fn list(
        &self,
        reference: &str,
        prefix: &str,
        delim: Option<&str>,
        amount: usize,
        start: Option<&str>,
    ) -> Result<Vec<Listed>, TestCaseError> {
        let mut out = Vec::new();
        let mut after: Option<String> = start.map(str::to_owned);
        for _ in 0..100 {
            let req = ListRequest {
                prefix: prefix.to_owned(),
                after: after.clone(),
                amount,
                delimiter: delim.map(str::to_owned),
            };
            let page = self
                .engine
                .list_objects(&self.repo, reference, &req)
                .await
                .map_err(|e| fail(format!("list {reference} {req:?}: {e}")))?;
            check_page(&page, amount, |l| l.key().to_owned())
                .map_err(|e| fail(format!("list {reference} {req:?}: {e}")))?;
            out.extend(page.items.into_iter().map(|l| match l {
                Listing::Object(p, e) => (p.into_string(), Some(e)),
                Listing::CommonPrefix(p) => (p, None),
            }));
            if !page.has_more {
                return Ok(out);
            }
            after = Some(page.next_offset);
        }
        Err(fail(format!("list {reference}: too many pages")))
    }

    async fn diff<F, Fut>(
        &self,
        (prefix, delim, amount, start): Read,
        fetch: F,
    ) -> Result<Vec<Diffed>, TestCaseError>
    where
        F: Fn(DiffRequest) -> Fut,
        Fut: std::future::Future<Output = Result<Page<tarn_domain::DiffItem>, Error>>,
    {
        let mut out = Vec::new();
        let mut after: Option<String> = start.map(str::to_owned);
        for _ in 0..100 {
            let req = DiffRequest {
                prefix: prefix.to_owned(),
                after: after.clone(),
                amount,
                delimiter: delim.map(str::to_owned),
            };
            let page = fetch(req.clone())
                .await
                .map_err(|e| fail(format!("diff {req:?}: {e}")))?;
            check_page(&page, amount, |d| d.path.clone())
                .map_err(|e| fail(format!("diff {req:?}: {e}")))?;
            out.extend(page.items.into_iter().map(|d| (d.path, d.kind, d.entry)));
            if !page.has_more {
                return Ok(out);
            }
            after = Some(page.next_offset);
        }
        Err(fail("diff: too many pages"))
    }

    async fn check_log(&self, name: &str, head: usize) -> Result<(), TestCaseError> {
        let m = &self.model;
        let req = LogRequest {
            amount: 1000,
            first_parent: true,
            ..LogRequest::default()
        };
        let page = self
            .engine
            .log(&self.repo, name, &req)
            .await
            .map_err(|e| fail(format!("log {name}: {e}")))?;
        prop_assert!(!page.has_more);
        let got: Vec<CommitId> = page.items.into_iter().map(|c| c.id).collect();
        let want: Vec<CommitId> = m
            .first_parent_chain(head)
            .into_iter()
            .map(|c| m.commits[c].id.clone())
            .collect();
        prop_assert_eq!(got, want, "first-parent log of {}", name);

        let mut got = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..100 {
            let req = LogRequest {
                amount: 3,
                after: after.clone(),
                ..LogRequest::default()
            };
            let page = self
                .engine
                .log(&self.repo, name, &req)
                .await
                .map_err(|e| fail(format!("log {name}: {e}")))?;
            check_page(&page, 3, |c| c.id.to_string()).map_err(fail)?;
            for c in page.items {
                let Some(&i) = m.by_id.get(&c.id) else {
                    return Err(fail(format!("log {name}: unknown commit {}", c.id)));
                };
                let parents: Vec<CommitId> = m.commits[i]
                    .parents
                    .iter()
                    .map(|&p| m.commits[p].id.clone())
                    .collect();
                prop_assert_eq!(&c.parents, &parents, "log {}: parents of {}", name, c.id);
                got.push(c.id);
            }
            if !page.has_more {
                break;
            }
            after = Some(page.next_offset);
        }
        let want: Vec<CommitId> = m
            .log(head)
            .into_iter()
            .map(|c| m.commits[c].id.clone())
            .collect();
        prop_assert_eq!(got, want, "log of {}", name);

        // Path filters: commits that changed a path (against the first parent).
        // Each commit's summary of its changes answers most of these
        // without a tree: prefixes inside and at folders, objects deep and
        // at the root, and what no commit touches.
        let filters: [(&[&str], &[&str]); 6] = [
            (&["a/b"], &[]),
            (&[], &["d/"]),
            (&["c"], &["a/"]),
            (&[], &["a"]),
            (&["zz", "d/e/f"], &["q/"]),
            (&[], &[""]),
        ];
        for (objects, prefixes) in filters {
            let req = LogRequest {
                amount: 1000,
                objects: objects.iter().map(|p| op_path(p)).collect(),
                prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
                ..LogRequest::default()
            };
            let page = self
                .engine
                .log(&self.repo, name, &req)
                .await
                .map_err(|e| fail(format!("log {name} {req:?}: {e}")))?;
            let got: Vec<CommitId> = page.items.into_iter().map(|c| c.id).collect();
            let empty = Tree::new();
            let want: Vec<CommitId> = m
                .log(head)
                .into_iter()
                .filter(|&c| {
                    let before = m.commits[c]
                        .parents
                        .first()
                        .map_or(&empty, |&p| &m.commits[p].tree);
                    let after = &m.commits[c].tree;
                    tree_changes(before, after).iter().any(|(p, _, _)| {
                        objects.contains(&p.as_str()) || prefixes.iter().any(|x| p.starts_with(x))
                    })
                })
                .map(|c| m.commits[c].id.clone())
                .collect();
            prop_assert_eq!(got, want, "log of {} {:?} {:?}", name, objects, prefixes);
        }

        // Stop commits: the log up to and including the stop, if reached.
        let mut stops: Vec<(String, usize)> = m
            .branches
            .iter()
            .filter(|(n, _)| **n != name)
            .map(|(n, b)| ((*n).to_owned(), b.head))
            .collect();
        if let Some(&c) = m.first_parent_chain(head).get(2) {
            stops.push((format!("{name}~2"), c));
        }
        for (stop, c) in stops {
            let req = LogRequest {
                amount: 1000,
                stop_at: Some(stop.clone()),
                ..LogRequest::default()
            };
            let page = self
                .engine
                .log(&self.repo, name, &req)
                .await
                .map_err(|e| fail(format!("log {name} {req:?}: {e}")))?;
            let got: Vec<CommitId> = page.items.into_iter().map(|c| c.id).collect();
            let mut want = m.log(head);
            if let Some(i) = want.iter().position(|&x| x == c) {
                want.truncate(i + 1);
            }
            let want: Vec<CommitId> = want.into_iter().map(|c| m.commits[c].id.clone()).collect();
            prop_assert_eq!(got, want, "log of {} stopping at {}", name, stop);
        }
        Ok(())
    }

    /// Every commit ever made still reads as it was made.
    pub(crate) async fn check_history(&self) -> Result<(), TestCaseError> {
        for c in &self.model.commits {
            let got = self
                .engine
                .get_commit(&self.repo, c.id.as_str())
                .await
                .map_err(|e| fail(format!("get_commit {}: {e}", c.id)))?;
            let parents: Vec<CommitId> = c
                .parents
                .iter()
                .map(|&p| self.model.commits[p].id.clone())
                .collect();
            prop_assert_eq!(&got.parents, &parents, "parents of {}", c.id);
            prop_assert_eq!(got.generation, c.generation, "generation of {}", c.id);
            prop_assert_eq!(&got.meta_range_id, &c.meta_range, "tree of {}", c.id);
            let listed = self.list(c.id.as_str(), "", None, 1000, None).await?;
            prop_assert_eq!(
                self.canon_all(listed),
                self.canon_all(model_listing(&c.tree, "", None)),
                "objects of {}",
                c.id
            );
        }
        Ok(())
    }
}

/// A listing result: a path with its entry, or a common prefix.
type Listed = (String, Option<Entry>);

fn check_page<T>(page: &Page<T>, amount: usize, key: impl Fn(&T) -> String) -> Result<(), String> {
    if page.items.len() > amount {
        return Err(format!("{} items on a page of {amount}", page.items.len()));
    }
    if page.has_more {
        if page.items.len() != amount {
            return Err(format!(
                "a short page ({}) says more follow",
                page.items.len()
            ));
        }
        let last = page.items.last().map(key).unwrap_or_default();
        if page.next_offset != last {
            return Err(format!(
                "next_offset {:?} is not the last key {last:?}",
                page.next_offset
            ));
        }
    } else if !page.next_offset.is_empty() {
        return Err(format!("last page has next_offset {:?}", page.next_offset));
    }
    Ok(())
}

/// The results whose key (path or common prefix) is after `start`.
fn after<T: Keyed>(items: Vec<T>, start: Option<&str>) -> Vec<T> {
    items
        .into_iter()
        .filter(|i| start.is_none_or(|s| i.key() > s))
        .collect()
}

/// A listing or diff result, by its offset key.
trait Keyed {
    fn key(&self) -> &str;
}

impl Keyed for Listed {
    fn key(&self) -> &str {
        &self.0
    }
}

impl Keyed for Diffed {
    fn key(&self) -> &str {
        &self.0
    }
}

/// S3-style listing of a tree: paths under `prefix`, with the paths that hold
/// `delim` after the prefix collapsed into common prefixes.
fn model_listing(tree: &Tree, prefix: &str, delim: Option<&str>) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    for (p, v) in tree.iter().filter(|(p, _)| p.starts_with(prefix)) {
        let rest = &p[prefix.len()..];
        match delim.and_then(|d| rest.find(d).map(|i| i + d.len())) {
            Some(end) => {
                let common = p[..prefix.len() + end].to_owned();
                if out.last().map(|l| &l.0) != Some(&common) {
                    out.push((common, None));
                }
            }
            None => out.push((p.clone(), Some(entry_of(v)))),
        }
    }
    out
}

/// Diff results under `prefix`, collapsed at `delim` into `PrefixChanged`.
fn group_changes(changes: &[Diffed], prefix: &str, delim: Option<&str>) -> Vec<Diffed> {
    let mut out: Vec<Diffed> = Vec::new();
    for (p, kind, e) in changes.iter().filter(|c| c.0.starts_with(prefix)) {
        let rest = &p[prefix.len()..];
        match delim.and_then(|d| rest.find(d).map(|i| i + d.len())) {
            Some(end) => {
                let common = p[..prefix.len() + end].to_owned();
                if out.last().map(|l| &l.0) != Some(&common) {
                    out.push((common, DiffKind::PrefixChanged, None));
                }
            }
            None => out.push((p.clone(), *kind, e.clone())),
        }
    }
    out
}

/// Results holding entries, compared by what users see of an entry when a
/// layered tree may point at a newer upload of identical content (see
/// `Harness::canon`).
pub(crate) trait Canon {
    fn canon_with(self, f: &dyn Fn(Entry) -> Entry) -> Self;
}

impl Canon for Vec<Listed> {
    fn canon_with(self, f: &dyn Fn(Entry) -> Entry) -> Self {
        self.into_iter().map(|(p, e)| (p, e.map(f))).collect()
    }
}

impl Canon for Vec<Diffed> {
    fn canon_with(self, f: &dyn Fn(Entry) -> Entry) -> Self {
        self.into_iter().map(|(p, k, e)| (p, k, e.map(f))).collect()
    }
}

impl Harness {
    /// An entry as compared: on a layered run, without its address. A commit
    /// onto a layer keeps a staged upload whose content equals the tree's
    /// (it reads no base record to compare), where a plain tree keeps the
    /// record it had; both hold the same content.
    pub(crate) fn canon(&self, mut e: Entry) -> Entry {
        if self.layered {
            e.address = tarn_model::PhysicalAddress::Relative(
                tarn_model::BlockKey::new("data/any").unwrap(),
            );
        }
        e
    }

    pub(crate) fn canon_all<T: Canon>(&self, v: T) -> T {
        v.canon_with(&|e| self.canon(e))
    }
}
