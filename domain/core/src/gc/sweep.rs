//! Classifying the namespace's data against the live set, and deleting
//! what was found to be garbage.

use super::active::{NOBODY, SHARED};
use super::spill::{write_records, Merger, Record, RecordReader};
use super::{canceled, garbage_key, BranchFootprint, GcObserver, GcOptions, GcReport, Tally};
use crate::error::Result;
use crate::Engine;
use tarn_model::{BlockKey, BranchName, RepositoryId, StorageNamespace, Timestamp};
use tarn_ports::{ListedBlock, DELETE_BATCH};

const PAGE: usize = 1000;
/// Addresses per garbage list file.
const GARBAGE_FILE_RECORDS: usize = 10_000;

/// Whether `key` is data Tarn wrote itself: `data/h<hour>/<id>`, or
/// `data/h<hour>/<id>-<mac>` for an address given out for a direct write.
/// Anything else under `data/` (another repository's namespace nested
/// inside this one, objects someone put there) is never touched.
pub(super) fn tarn_data_key(key: &str) -> Option<(i64, bool)> {
    let rest = key.strip_prefix("data/h")?;
    let (hour, id) = rest.split_once('/')?;
    let hour_value: i64 = hour.parse().ok()?;
    if hour_value < 0 || hour_value.to_string() != hour {
        return None;
    }
    let (base, mac) = match id.split_once('-') {
        Some((base, mac)) => (base, Some(mac)),
        None => (id, None),
    };
    // Ids of `IdGenerator`s: 26 characters of Crockford base32 (lowercase),
    // or 20 digits (the sequential ids of tests).
    let base32 = |b: u8| b.is_ascii_digit() || (b.is_ascii_lowercase() && !b"ilou".contains(&b));
    let id_ok = (base.len() == 26 && base.bytes().all(base32))
        || (base.len() == 20 && base.bytes().all(|b| b.is_ascii_digit()));
    let mac_ok = mac.is_none_or(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()));
    (id_ok && mac_ok).then_some((hour_value, mac.is_some()))
}

/// Walks the sorted listing of `data/` beside the sorted live set: each
/// listed object is live, too young, garbage, or not Tarn's.
#[allow(clippy::too_many_arguments)]
pub(super) async fn classify(
    engine: &Engine,
    ns: &StorageNamespace,
    run: &str,
    mut live: Merger,
    (cutoff, started): (Timestamp, Timestamp),
    owners: &[BranchName],
    options: &GcOptions,
    observer: &dyn GcObserver,
    report: &mut GcReport,
) -> Result<()> {
    // Given-out addresses are held while they could still be linked when
    // the mark started (staging was scanned after that), plus an hour for
    // clocks of other instances running behind.
    let start_hour = started.unix_seconds().div_euclid(3600);
    let mut exclusive = vec![Tally::default(); owners.len()];
    let mut next_live: Option<Record> = live.next().await?;
    let mut garbage: Vec<Record> = Vec::new();
    let mut after: Option<BlockKey> = None;
    loop {
        if observer.cancelled() {
            return Err(canceled());
        }
        let page: Vec<ListedBlock> = engine
            .stores
            .blocks
            .list(ns, "data/", after.as_ref(), PAGE)
            .await?;
        let done = page.len() < PAGE;
        after = page.last().map(|b| b.key.clone());
        for block in page {
            let key = block.key.as_str();
            let size = block.meta.size;
            while next_live.as_ref().is_some_and(|l| l.key.as_str() < key) {
                next_live = live.next().await?;
            }
            let Some((hour, given_out)) = tarn_data_key(key) else {
                continue;
            };
            report.scanned.add(size);
            if let Some(l) = next_live.as_ref().filter(|l| l.key == key) {
                report.live.add(size);
                if l.owner != SHARED && l.owner != NOBODY {
                    if let Some(t) = exclusive.get_mut(l.owner as usize) {
                        t.add(size);
                    }
                }
                continue;
            }
            let linkable = given_out && start_hour - hour <= crate::data::LINK_LIFETIME_HOURS + 1;
            if block.meta.last_modified >= cutoff || linkable {
                report.skipped_grace.add(size);
                continue;
            }
            report.garbage.add(size);
            if !options.dry_run {
                garbage.push(Record {
                    key: key.to_owned(),
                    owner: 0,
                    size,
                });
                if garbage.len() >= GARBAGE_FILE_RECORDS {
                    flush(engine, ns, run, &mut garbage, report).await?;
                }
            }
        }
        observer.progress("mark: listing data", report.scanned.objects, None);
        if done {
            break;
        }
    }
    flush(engine, ns, run, &mut garbage, report).await?;
    report.branches = owners
        .iter()
        .zip(exclusive)
        .map(|(b, t)| BranchFootprint {
            branch: b.to_string(),
            exclusive: t,
        })
        .collect();
    Ok(())
}

async fn flush(
    engine: &Engine,
    ns: &StorageNamespace,
    run: &str,
    garbage: &mut Vec<Record>,
    report: &mut GcReport,
) -> Result<()> {
    if garbage.is_empty() {
        return Ok(());
    }
    let key = garbage_key(run, report.garbage_files)?;
    write_records(&engine.stores.blocks, ns, &key, garbage).await?;
    report.garbage_files += 1;
    garbage.clear();
    Ok(())
}

/// Deletes the run's garbage list, then aborts its abandoned uploads.
pub(super) async fn sweep(
    engine: &Engine,
    repo: &RepositoryId,
    ns: &StorageNamespace,
    report: &mut GcReport,
    observer: &dyn GcObserver,
) -> Result<()> {
    let total = report.garbage.objects;
    let mut deleted = Tally::default();
    for n in 0..report.garbage_files {
        let mut reader =
            RecordReader::open(&engine.stores.blocks, ns, &garbage_key(&report.run_id, n)?).await?;
        let mut batch: Vec<BlockKey> = Vec::with_capacity(DELETE_BATCH);
        let mut bytes = 0;
        loop {
            let next = reader.next().await?;
            if let Some(r) = &next {
                // Only ever Tarn's own data, whatever the list says.
                if tarn_data_key(&r.key).is_some() {
                    batch.push(BlockKey::new(r.key.clone())?);
                    bytes += r.size;
                }
            }
            if batch.len() == DELETE_BATCH || (next.is_none() && !batch.is_empty()) {
                if observer.cancelled() {
                    return Err(canceled());
                }
                engine.stores.blocks.delete_many(ns, &batch).await?;
                deleted.objects += batch.len() as u64;
                deleted.bytes += bytes;
                bytes = 0;
                batch.clear();
                observer.progress("sweep: deleting", deleted.objects, Some(total));
            }
            if next.is_none() {
                break;
            }
        }
    }
    report.deleted = deleted;
    for n in 0..report.tree_list_files {
        let key = super::tree_list_key(&report.run_id, n)?;
        let mut reader = RecordReader::open(&engine.stores.blocks, ns, &key).await?;
        while let Some(r) = reader.next().await? {
            if observer.cancelled() {
                return Err(canceled());
            }
            let cutoff = Timestamp::from_unix_seconds(report.cutoff);
            if super::trees::act(engine, ns, &r, cutoff).await? {
                match r.owner {
                    super::trees::TO_TRASH => report.trees_trashed += 1,
                    super::trees::PURGE => report.trash_purged += 1,
                    _ => report.trash_restored += 1,
                }
            }
        }
    }
    for upload in report.abandoned_uploads.clone() {
        match engine.abort_multipart_upload(repo, &upload).await {
            Ok(()) => report.uploads_aborted += 1,
            Err(crate::Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tarn_data_key;

    #[test]
    fn only_keys_tarn_wrote_are_candidates() {
        let id = "001k1q4m8btqj3ed3dv2wn72yg";
        assert_eq!(
            tarn_data_key(&format!("data/h490000/{id}")),
            Some((490000, false))
        );
        let mac = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            tarn_data_key(&format!("data/h7/{id}-{mac}")),
            Some((7, true))
        );
        assert_eq!(
            tarn_data_key("data/h7/00000000000000000042"),
            Some((7, false))
        );
        for other in [
            "data/x",
            "data/h12",
            "data/h12/",
            "data/h/abc",
            "data/h012/abc",
            "data/h-1/abc",
            "data/h12/abc/def",
            "data/h12/nested/_tarn/namespace",
            "data/h12/ABC",
            "data/h12/abc-short",
            "data/h12/readme",
            "data/h12/001k1q4m8btqj3ed3dv2wn72yi",
            "data/h12/001k1q4m8btqj3ed3dv2wn72y",
            "_tarn/range/abc",
            "elsewhere/data/h12/abc",
        ] {
            assert_eq!(tarn_data_key(other), None, "{other}");
        }
    }
}
