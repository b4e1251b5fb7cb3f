//! The memory estimates that caches weigh entries with, checked against
//! what a counting allocator sees decoding real tree files: a budget in
//! bytes must bound the bytes the process really holds. One test: the
//! counter is process-wide, so nothing may allocate beside it.

#![allow(clippy::unwrap_used)]

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::collections::BTreeMap;
use tarn_model::footprint::total_bytes;
use tarn_model::tree::{decode_range, encode_range, TreeRecord};
use tarn_model::{BlockKey, Entry, ObjectPath, PhysicalAddress, StorageNamespace, Timestamp};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn record(i: usize, metadata: usize, full: bool) -> TreeRecord {
    let path = ObjectPath::new(format!(
        "tables/events/date=2026-12-{:02}/part-{i:08}.parquet",
        i % 28 + 1
    ))
    .unwrap();
    let key = BlockKey::new(format!("data/h{}/{:032x}", i % 24, i * 7919)).unwrap();
    let address = if full {
        PhysicalAddress::Full {
            namespace: StorageNamespace::new("s3://imported-bucket/some/prefix").unwrap(),
            key,
        }
    } else {
        PhysicalAddress::Relative(key)
    };
    let entry = Entry {
        address,
        size: i as u64 * 1000,
        checksum: format!("{i:032x}"),
        last_modified: Timestamp::EPOCH,
        content_type: i
            .is_multiple_of(2)
            .then(|| "application/octet-stream".to_owned()),
        metadata: (0..metadata)
            .map(|m| (format!("key-{m}"), format!("value number {m} of {i}")))
            .collect::<BTreeMap<_, _>>(),
        tags: BTreeMap::new(),
    };
    (path, entry)
}

/// Net bytes requested from the allocator for what `make` returns (kept
/// alive until measured), and the estimate of it.
fn measured_and_estimated(make: impl FnOnce() -> Vec<TreeRecord>) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    let records = make();
    let stats = region.change();
    let net = (stats.bytes_allocated as isize + stats.bytes_reallocated
        - stats.bytes_deallocated as isize)
        .max(1) as usize;
    let estimate = total_bytes(&records) - std::mem::size_of::<Vec<TreeRecord>>();
    drop(records);
    (net, estimate)
}

#[test]
fn decoded_ranges_weigh_what_they_hold() {
    for (metadata, full) in [(0, false), (1, false), (3, true), (20, false)] {
        let records: Vec<TreeRecord> = (0..2000).map(|i| record(i, metadata, full)).collect();
        let bytes = encode_range(&records);
        let (net, estimate) = measured_and_estimated(|| decode_range(&bytes).unwrap());
        // What the counter sees are requested bytes, below what malloc hands
        // out (headers, rounding), which the estimate models: it may exceed
        // them by that, never fall short of them.
        let ratio = estimate as f64 / net as f64;
        assert!(
            (1.0..1.4).contains(&ratio),
            "{metadata} metadata pairs: estimated {estimate} bytes for {net} allocated \
             (ratio {ratio:.2})"
        );
        // The encoded size, which the cache used to weigh by, falls short.
        assert!(
            bytes.len() < net,
            "{metadata} metadata pairs: encoded {} vs {net} in memory",
            bytes.len()
        );
    }
}
