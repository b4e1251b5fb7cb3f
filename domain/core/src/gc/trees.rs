//! Tree files (ranges and metaranges) that no commit references: left by
//! commits and merges that failed or lost a race. Every commit's tree counts
//! as referenced, kept by retention or not, so expired commits still list,
//! and so does the plain tree a compaction folded a referenced layered tree
//! into (its marker, `_tarn/compacted/<id>`, is kept with the commit).
//!
//! Tree files are content-addressed: a commit in flight may write (or reuse)
//! a file with the same name as an unreferenced one the run is about to
//! delete. So a sweep never deletes one outright: it moves it to
//! `_tarn/trash/<kind>/<id>`, and a read that misses a tree file restores it
//! from there (see `TreeStore::read_file`). A later run empties the trash of
//! files trashed longer ago than the grace period that still no commit
//! references, and puts back those a commit references again.

use super::spill::Record;
use crate::error::Result;
use crate::Engine;
use std::collections::HashSet;
use tarn_model::{BlockKey, MetaRangeId, StorageNamespace, Timestamp};
use tarn_ports::ListedBlock;

const PAGE: usize = 1000;
/// Where tree files go before they are deleted.
pub(crate) const TRASH: &str = "_tarn/trash/";

/// What a sweep does with a tree file (the record's `owner` field).
pub(super) const TO_TRASH: u32 = 0;
pub(super) const PURGE: u32 = 1;
pub(super) const RESTORE: u32 = 2;

/// `(kind, id)` of a tree file key `_tarn/<kind>/<id>` or (with `trash`)
/// `_tarn/trash/<kind>/<id>`: kind `range` or `metarange`, id 64 hex digits.
pub(super) fn tree_file(key: &str, trash: bool) -> Option<(&str, &str)> {
    let rest = if trash {
        key.strip_prefix(TRASH)?
    } else {
        key.strip_prefix("_tarn/")?
    };
    let (kind, id) = rest.split_once('/')?;
    let ok = matches!(kind, "range" | "metarange")
        && id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then_some((kind, id))
}

/// The ids (`range/<id>`, `metarange/<id>`) of every tree file the trees
/// `metaranges` consist of.
pub(super) async fn referenced(
    engine: &Engine,
    ns: &StorageNamespace,
    metaranges: impl IntoIterator<Item = MetaRangeId>,
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for id in metaranges {
        if !out.insert(format!("metarange/{id}")) {
            continue;
        }
        // A layered tree's file, and its base's.
        let tree = engine.trees.tree_uncached(ns, &id).await?;
        out.insert(format!("metarange/{}", tree.base_id));
        for info in tree.base.iter() {
            out.insert(format!("range/{}", info.id));
        }
        // The plain tree a compaction folded it into: the next commit onto
        // it starts there. Only layers large enough to compact have one.
        let layering = engine.trees.layering();
        if tree.overlay.is_some() && layering.wants_compaction(tree.overlay_records().len()) {
            if let Some(plain) = engine.trees.compacted(ns, &id).await? {
                if !out.contains(&format!("metarange/{plain}")) {
                    reference_compacted(engine, ns, &id, &plain, &mut out).await?;
                }
            }
        }
    }
    Ok(out)
}

/// Adds the files of `plain`, the tree a compaction folded `layered` into.
/// A compacted tree whose file is gone (it holds nothing the layered tree
/// does not: commits then start from the layered tree, and the next
/// compaction writes it again) is passed over; any other failure to read
/// it fails the run, which must not trash what the next commit reads.
async fn reference_compacted(
    engine: &Engine,
    ns: &StorageNamespace,
    layered: &MetaRangeId,
    plain: &MetaRangeId,
    out: &mut HashSet<String>,
) -> Result<()> {
    match engine.trees.tree_uncached(ns, plain).await {
        Ok(folded) => {
            out.insert(format!("metarange/{plain}"));
            for info in folded.base.iter() {
                out.insert(format!("range/{}", info.id));
            }
            Ok(())
        }
        Err(e) => {
            let key = crate::trees::metarange_key(plain)?;
            match engine.trees.blocks().head(ns, &key).await {
                Err(gone) if gone.kind() == tarn_ports::ErrorKind::NotFound => {
                    tracing::warn!(tree = %layered, compacted = %plain, "a compacted tree is gone; passed over");
                    Ok(())
                }
                _ => Err(e),
            }
        }
    }
}

/// Tree files and trash to act on, with the tally of unreferenced ones.
pub(super) struct TreeFindings {
    pub actions: Vec<Record>,
    pub unreferenced: super::Tally,
}

/// Lists the tree files and the trash against `referenced`.
pub(super) async fn classify(
    engine: &Engine,
    ns: &StorageNamespace,
    referenced: &HashSet<String>,
    cutoff: Timestamp,
) -> Result<TreeFindings> {
    let mut found = TreeFindings {
        actions: Vec::new(),
        unreferenced: super::Tally::default(),
    };
    for (prefix, trash) in [
        ("_tarn/metarange/", false),
        ("_tarn/range/", false),
        (TRASH, true),
    ] {
        let mut after: Option<BlockKey> = None;
        loop {
            let page: Vec<ListedBlock> = engine
                .stores
                .blocks
                .list(ns, prefix, after.as_ref(), PAGE)
                .await?;
            let done = page.len() < PAGE;
            after = page.last().map(|b| b.key.clone());
            for block in page {
                let key = block.key.as_str();
                let Some((kind, id)) = tree_file(key, trash) else {
                    continue;
                };
                let is_referenced = referenced.contains(&format!("{kind}/{id}"));
                let old = block.meta.last_modified < cutoff;
                let action = match (trash, is_referenced, old) {
                    (false, false, true) => {
                        found.unreferenced.add(block.meta.size);
                        Some(TO_TRASH)
                    }
                    (true, true, _) => Some(RESTORE),
                    (true, false, true) => Some(PURGE),
                    _ => None,
                };
                if let Some(owner) = action {
                    found.actions.push(Record {
                        key: key.to_owned(),
                        owner,
                        size: block.meta.size,
                    });
                }
            }
            if done {
                break;
            }
        }
    }
    Ok(found)
}

/// Whether `key` is still as old as the mark saw it (written before
/// `cutoff`): a file written since (a commit re-put it, a later run trashed
/// it again) is left alone.
async fn still_old(
    engine: &Engine,
    ns: &StorageNamespace,
    key: &BlockKey,
    cutoff: Timestamp,
) -> Result<bool> {
    match engine.stores.blocks.head(ns, key).await {
        Ok(meta) => Ok(meta.last_modified < cutoff),
        Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Carries out one action of a tree list, marked with grace cutoff `cutoff`.
pub(super) async fn act(
    engine: &Engine,
    ns: &StorageNamespace,
    r: &Record,
    cutoff: Timestamp,
) -> Result<bool> {
    let blocks = &engine.stores.blocks;
    let ignore_missing = |res: tarn_ports::PortResult<tarn_ports::PutOutcome>| match res {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(crate::Error::from(e)),
    };
    match r.owner {
        TO_TRASH => {
            let Some((kind, id)) = tree_file(&r.key, false) else {
                return Ok(false);
            };
            let main = BlockKey::new(r.key.clone())?;
            let trash = BlockKey::new(format!("{TRASH}{kind}/{id}"))?;
            if !still_old(engine, ns, &main, cutoff).await? {
                return Ok(false);
            }
            // Copied first: a read that misses the file finds it there.
            if !ignore_missing(blocks.copy(ns, &main, ns, &trash).await)? {
                return Ok(false);
            }
            blocks.delete(ns, &main).await?;
            Ok(true)
        }
        PURGE => {
            let Some((kind, id)) = tree_file(&r.key, true) else {
                return Ok(false);
            };
            let trash = BlockKey::new(r.key.clone())?;
            if !still_old(engine, ns, &trash, cutoff).await? {
                return Ok(false);
            }
            // A layered tree's base values go with it (none for the
            // others), first: a run stopped in between leaves the tree in
            // the trash for the next run, not base values of no tree.
            if kind == "metarange" {
                let described = crate::trees::base_values_key(&MetaRangeId::new(id)?)?;
                blocks.delete(ns, &described).await?;
            }
            blocks.delete(ns, &trash).await?;
            Ok(true)
        }
        RESTORE => {
            let Some((kind, id)) = tree_file(&r.key, true) else {
                return Ok(false);
            };
            let trash = BlockKey::new(r.key.clone())?;
            let main = BlockKey::new(format!("_tarn/{kind}/{id}"))?;
            let present = match blocks.head(ns, &main).await {
                Ok(_) => true,
                Err(e) if e.kind() == tarn_ports::ErrorKind::NotFound => false,
                Err(e) => return Err(e.into()),
            };
            if !present && !ignore_missing(blocks.copy(ns, &trash, ns, &main).await)? {
                return Ok(false);
            }
            blocks.delete(ns, &trash).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::tree_file;

    #[test]
    fn only_tree_file_names_are_acted_on() {
        let id = "ab".repeat(32);
        assert_eq!(
            tree_file(&format!("_tarn/range/{id}"), false),
            Some(("range", id.as_str()))
        );
        assert_eq!(
            tree_file(&format!("_tarn/trash/metarange/{id}"), true),
            Some(("metarange", id.as_str()))
        );
        for other in [
            format!("_tarn/range/{id}x"),
            format!("_tarn/range/{}", "AB".repeat(32)),
            "_tarn/dummy".to_owned(),
            format!("_tarn/gc/run/{id}"),
            format!("_tarn/trash/range/{id}"),
            format!("data/range/{id}"),
        ] {
            assert_eq!(tree_file(&other, false), None, "{other}");
        }
        assert_eq!(tree_file(&format!("_tarn/range/{id}"), true), None);
    }
}
