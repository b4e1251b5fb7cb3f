//! The pure rules of versioning: commit ids, the three-way merge table and
//! the difference of two sorted record lists.

use crate::tree::TreeRecord;
use crate::{CommitId, Entry, IdentHasher, MetaRangeId, ObjectPath, Timestamp};
use std::collections::BTreeMap;

/// lakeFS's content address of a commit (`Commit.Identity()`): SHA-256 over the
/// typed encoding of `"commit:v1"`, committer, message, metarange id, creation
/// time in whole seconds, metadata, and the hash of the parents' ids.
pub fn commit_id(
    committer: &str,
    message: &str,
    meta_range_id: &MetaRangeId,
    creation_date: Timestamp,
    metadata: &BTreeMap<String, String>,
    parents: &[CommitId],
) -> CommitId {
    let mut parents_hash = IdentHasher::new();
    parents_hash.string_slice(parents);
    let parents_digest = parents_hash.finish();
    let mut h = IdentHasher::new();
    h.string("commit:v1")
        .string(committer)
        .string(message)
        .string(meta_range_id.as_str())
        .int64(creation_date.unix_seconds())
        .string_map(metadata)
        .embedded(&parents_digest);
    CommitId::new(hex::encode(h.finish())).unwrap_or_else(|_| unreachable!("sha-256 hex is valid"))
}

/// How a merge resolves conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeStrategy {
    /// A conflict fails the merge.
    #[default]
    None,
    /// Conflicts take the source's value.
    SourceWins,
    /// Conflicts keep the destination's value.
    DestWins,
}

impl MergeStrategy {
    /// lakeFS's name of the strategy, recorded in merge commits' metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "default",
            Self::SourceWins => "source-wins",
            Self::DestWins => "dest-wins",
        }
    }
}

/// The outcome of the three-way merge for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The destination's value stands.
    KeepDestination,
    /// The path takes this value (`None`: it is removed).
    Take(Option<Entry>),
    /// Both sides changed the path differently.
    Conflict,
}

fn same(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_identity(b),
        _ => false,
    }
}

/// lakeFS's merge table, by identity: a side that did not change the path
/// yields to the one that did; equal changes agree; different changes
/// conflict unless the strategy picks a side.
pub fn three_way(
    base: Option<&Entry>,
    source: Option<&Entry>,
    dest: Option<&Entry>,
    strategy: MergeStrategy,
) -> Resolution {
    if same(source, base) || same(source, dest) {
        return Resolution::KeepDestination;
    }
    if same(dest, base) {
        return Resolution::Take(source.cloned());
    }
    match strategy {
        MergeStrategy::None => Resolution::Conflict,
        MergeStrategy::SourceWins => Resolution::Take(source.cloned()),
        MergeStrategy::DestWins => Resolution::KeepDestination,
    }
}

/// How a path differs between two trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Only on the right.
    Added,
    /// Only on the left.
    Removed,
    /// On both, with different identities.
    Changed,
}

/// One difference of two trees: the right side's value, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The path.
    pub path: ObjectPath,
    /// What happened to it.
    pub kind: ChangeKind,
    /// The left value (absent when added).
    pub left: Option<Entry>,
    /// The right value (absent when removed).
    pub right: Option<Entry>,
}

/// The differences between two sorted record lists, in path order. Entries
/// with the same identity are equal whatever their address or time.
pub fn diff_sorted(left: &[TreeRecord], right: &[TreeRecord]) -> Vec<Change> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < left.len() || j < right.len() {
        let order = match (left.get(i), right.get(j)) {
            (Some(l), Some(r)) => l.0.cmp(&r.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                let (p, e) = &left[i];
                out.push(change(p, ChangeKind::Removed, Some(e), None));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let (p, e) = &right[j];
                out.push(change(p, ChangeKind::Added, None, Some(e)));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let ((p, l), (_, r)) = (&left[i], &right[j]);
                if !l.same_identity(r) {
                    out.push(change(p, ChangeKind::Changed, Some(l), Some(r)));
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn change(p: &ObjectPath, kind: ChangeKind, l: Option<&Entry>, r: Option<&Entry>) -> Change {
    Change {
        path: p.clone(),
        kind,
        left: l.cloned(),
        right: r.cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlockKey, PhysicalAddress};
    use proptest::prelude::*;

    fn e(sum: &str) -> Entry {
        Entry {
            address: PhysicalAddress::Relative(BlockKey::new(format!("data/{sum}")).unwrap()),
            size: 1,
            checksum: sum.to_owned(),
            last_modified: Timestamp::from_unix_seconds(1),
            content_type: None,
            metadata: BTreeMap::new(),
            tags: Default::default(),
        }
    }

    #[test]
    fn merge_table_of_lakefs() {
        use Resolution::*;
        let (a, b, c) = (e("a"), e("b"), e("c"));
        let s = MergeStrategy::None;
        let t = |base, src, dst| three_way(base, src, dst, s);
        assert_eq!(t(Some(&a), Some(&a), Some(&a)), KeepDestination);
        assert_eq!(t(Some(&a), Some(&b), Some(&b)), KeepDestination);
        assert_eq!(t(Some(&a), Some(&b), Some(&c)), Conflict);
        assert_eq!(t(Some(&a), Some(&a), Some(&b)), KeepDestination);
        assert_eq!(t(Some(&a), Some(&b), Some(&a)), Take(Some(b.clone())));
        assert_eq!(t(Some(&a), None, None), KeepDestination);
        assert_eq!(t(Some(&a), Some(&b), None), Conflict);
        assert_eq!(t(Some(&a), None, Some(&b)), Conflict);
        assert_eq!(t(Some(&a), Some(&a), None), KeepDestination);
        assert_eq!(t(Some(&a), None, Some(&a)), Take(None));
        assert_eq!(t(None, Some(&a), None), Take(Some(a.clone())));
        assert_eq!(t(None, Some(&a), Some(&b)), Conflict);
    }

    #[test]
    fn strategies_pick_a_side_only_on_conflict() {
        let (a, b, c) = (e("a"), e("b"), e("c"));
        assert_eq!(
            three_way(Some(&a), Some(&b), Some(&c), MergeStrategy::SourceWins),
            Resolution::Take(Some(b.clone()))
        );
        assert_eq!(
            three_way(Some(&a), None, Some(&c), MergeStrategy::SourceWins),
            Resolution::Take(None)
        );
        assert_eq!(
            three_way(Some(&a), Some(&b), Some(&c), MergeStrategy::DestWins),
            Resolution::KeepDestination
        );
        assert_eq!(
            three_way(Some(&a), Some(&b), Some(&a), MergeStrategy::DestWins),
            Resolution::Take(Some(b))
        );
    }

    #[test]
    fn identity_not_address_decides() {
        let mut moved = e("a");
        moved.address = PhysicalAddress::Relative(BlockKey::new("elsewhere").unwrap());
        moved.last_modified = Timestamp::from_unix_seconds(99);
        let a = e("a");
        let p = ObjectPath::new("x").unwrap();
        assert!(diff_sorted(&[(p.clone(), a.clone())], &[(p, moved.clone())]).is_empty());
        assert_eq!(
            three_way(Some(&a), Some(&moved), Some(&e("b")), MergeStrategy::None),
            Resolution::KeepDestination
        );
    }

    #[test]
    fn commit_ids_are_content_addresses() {
        let mr = MetaRangeId::new("0".repeat(64)).unwrap();
        let t = Timestamp::from_unix_seconds(1_700_000_000);
        let meta = BTreeMap::new();
        let id = commit_id("alice", "m", &mr, t, &meta, &[]);
        assert_eq!(id, commit_id("alice", "m", &mr, t, &meta, &[]));
        let later_same_second = Timestamp::from_unix_micros(t.unix_micros() + 999_999);
        assert_eq!(
            id,
            commit_id("alice", "m", &mr, later_same_second, &meta, &[])
        );
        assert_ne!(id, commit_id("bob", "m", &mr, t, &meta, &[]));
        assert_ne!(
            id,
            commit_id("alice", "m", &mr, t, &meta, std::slice::from_ref(&id))
        );
        let mut m2 = BTreeMap::new();
        m2.insert("k".to_owned(), "v".to_owned());
        assert_ne!(id, commit_id("alice", "m", &mr, t, &m2, &[]));
    }

    fn tree(keys: &std::collections::BTreeMap<u8, u8>) -> Vec<TreeRecord> {
        keys.iter()
            .map(|(k, v)| {
                (
                    ObjectPath::new(format!("k{k:03}")).unwrap(),
                    e(&v.to_string()),
                )
            })
            .collect()
    }

    proptest! {
        #[test]
        fn diff_matches_a_naive_comparison(
            l in proptest::collection::btree_map(any::<u8>(), 0u8..4, 0..40),
            r in proptest::collection::btree_map(any::<u8>(), 0u8..4, 0..40),
        ) {
            let got = diff_sorted(&tree(&l), &tree(&r));
            let mut want = Vec::new();
            let keys: std::collections::BTreeSet<u8> = l.keys().chain(r.keys()).copied().collect();
            for k in keys {
                let kind = match (l.get(&k), r.get(&k)) {
                    (Some(_), None) => ChangeKind::Removed,
                    (None, Some(_)) => ChangeKind::Added,
                    (Some(a), Some(b)) if a != b => ChangeKind::Changed,
                    _ => continue,
                };
                want.push((format!("k{k:03}"), kind));
            }
            let got: Vec<_> = got.iter().map(|c| (c.path.to_string(), c.kind)).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn merging_is_symmetric_when_sides_agree(base in 0u8..3, src in 0u8..3, dst in 0u8..3) {
            let v = |n: u8| (n > 0).then(|| e(&n.to_string()));
            let (b, s, d) = (v(base), v(src), v(dst));
            let r = three_way(b.as_ref(), s.as_ref(), d.as_ref(), MergeStrategy::None);
            let result = match &r {
                Resolution::KeepDestination => d.clone(),
                Resolution::Take(x) => x.clone(),
                Resolution::Conflict => {
                    prop_assert!(src != base && dst != base && src != dst);
                    return Ok(());
                }
            };
            // The result equals whichever side changed (or both, if equal).
            if src == base { prop_assert_eq!(result, d); } else { prop_assert_eq!(result, s); }
        }
    }
}
