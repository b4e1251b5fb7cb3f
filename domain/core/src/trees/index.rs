//! A cache-friendly index of a sorted key list for exact lookups: most keys
//! of a range or a metarange share a long prefix, so the bytes after it, as
//! a big-endian integer, order the keys (ties aside) without chasing a
//! pointer per probe.

use super::corrupt;
use crate::error::Result;
use std::cmp::Ordering;
use std::ops::Deref;
use std::sync::{Arc, Mutex, Weak};
use tarn_model::footprint::{heap_block, HeapSize};
use tarn_model::tree::{RangeFile, RangeInfo, TreeRecord};
use tarn_model::{Entry, InvalidValue, ObjectPath};

/// Where a key sorts against the prefix most keys share: the top byte of a
/// fingerprint, so that fingerprints order keys across classes too.
#[derive(Clone, Copy)]
enum Class {
    /// Before every key with the prefix (and without it).
    Before = 0,
    /// With the prefix: fingerprinted on the bytes after it.
    Within = 1,
    /// After every key with the prefix (and without it).
    After = 2,
}

/// An order-preserving fingerprint: a key's [`Class`] in the top byte,
/// then the first bytes of the key (after the prefix, for `Within`) as a
/// big-endian integer, zero-padded (no NUL in paths keeps the order).
trait Print: Copy + Ord + Default {
    fn of(class: Class, rest: &[u8]) -> Self;
}

fn packed<const N: usize>(class: Class, rest: &[u8]) -> [u8; N] {
    let mut bytes = [0u8; N];
    bytes[0] = class as u8;
    let n = rest.len().min(N - 1);
    bytes[1..=n].copy_from_slice(&rest[..n]);
    bytes
}

impl Print for u64 {
    fn of(class: Class, rest: &[u8]) -> Self {
        u64::from_be_bytes(packed(class, rest))
    }
}

impl Print for u128 {
    fn of(class: Class, rest: &[u8]) -> Self {
        u128::from_be_bytes(packed(class, rest))
    }
}

/// Order-preserving fingerprints of sorted keys: 8 bytes for a range's
/// paths (consecutive keys, which share a long prefix), 16 for a
/// metarange's last keys and an overlay's paths (which span more of the key
/// space, and would otherwise tie in runs that each cost comparisons of
/// strings).
///
/// The prefix is the one the keys from the 5th to the 95th percentile
/// share (all keys, for fewer than 20): a few keys elsewhere in the key
/// space (another top-level folder) do not cost every lookup its
/// discrimination. Those few tie more often, and ties are settled by
/// comparing the keys.
///
/// A lookup first searches every [`SAMPLE`]th fingerprint, then the
/// [`SAMPLE`] the sample points to: fewer cache lines than one binary
/// search of them all (a cached range is seldom in the processor's cache).
#[derive(Debug)]
struct Fingerprints<F> {
    /// The prefix most keys share.
    common: Box<[u8]>,
    values: Vec<F>,
    /// The last fingerprint of each run of [`SAMPLE`] values.
    samples: Vec<F>,
}

/// Fingerprints per sample.
const SAMPLE: usize = 16;

impl<F: Print> Fingerprints<F> {
    fn heap_bytes(&self) -> usize {
        heap_block(self.values.capacity() * std::mem::size_of::<F>())
            + heap_block(self.samples.capacity() * std::mem::size_of::<F>())
            + heap_block(self.common.len())
    }

    fn print_with(common: &[u8], key: &[u8]) -> F {
        match key.strip_prefix(common) {
            Some(rest) => F::of(Class::Within, rest),
            None => match key.cmp(common) {
                Ordering::Less => F::of(Class::Before, key),
                _ => F::of(Class::After, key),
            },
        }
    }

    fn new<'a>(keys: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> Self {
        let n = keys.len();
        let skip = n / 20;
        let mut middle = keys.clone().skip(skip).take(n - 2 * skip);
        let common: &[u8] = match (middle.next(), middle.last()) {
            (Some(a), Some(b)) => {
                let n = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                &a[..n]
            }
            (Some(a), None) => a,
            _ => &[],
        };
        let values: Vec<F> = keys.map(|k| Self::print_with(common, k)).collect();
        let samples = values.chunks(SAMPLE).filter_map(|c| c.last().copied());
        Self {
            common: common.into(),
            samples: samples.collect(),
            values,
        }
    }

    /// The window of positions whose fingerprint equals `key`'s: `key`
    /// sorts among them (before every later key, after every earlier one).
    fn window(&self, key: &[u8]) -> (usize, usize) {
        let f = Self::print_with(&self.common, key);
        // The first run whose last value is not below `f` holds the first
        // such value (none does when every value is below it).
        let run = (self.samples.partition_point(|&x| x < f) * SAMPLE).min(self.values.len());
        let within = &self.values[run..];
        let lo = run + within[..within.len().min(SAMPLE)].partition_point(|&x| x < f);
        // Fingerprints rarely repeat: step over the equal ones.
        let hi = lo + self.values[lo..].iter().take_while(|&&x| x == f).count();
        (lo, hi)
    }
}

/// An index of sorted paths held elsewhere (an overlay's): where to look
/// for a path, so that a lookup compares the fewest paths.
#[derive(Debug)]
pub(crate) struct PathIndex(Fingerprints<u128>);

impl PathIndex {
    pub(crate) fn new<'a>(paths: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> Self {
        Self(Fingerprints::new(paths))
    }

    /// The positions whose path `key` may equal (and sorts among).
    pub(crate) fn window(&self, key: &[u8]) -> (usize, usize) {
        self.0.window(key)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

/// A range as cached: its file kept encoded (see [`RangeFile`]), with the
/// lookup index of its paths.
#[derive(Debug)]
pub(crate) struct RangeData {
    file: RangeFile,
    index: Fingerprints<u64>,
}

impl RangeData {
    /// Checks and indexes a range file.
    pub(crate) fn parse(bytes: Vec<u8>) -> Result<Self, InvalidValue> {
        let file = RangeFile::parse(bytes)?;
        let index =
            Fingerprints::new((0..file.len()).map(|i| file.path_bytes(i).unwrap_or_default()));
        Ok(Self { file, index })
    }

    /// The memory this range holds behind its `Arc` (allocation included).
    pub(crate) fn footprint(&self) -> usize {
        heap_block(std::mem::size_of::<Self>() + 16)
            + self.file.heap_bytes()
            + self.index.heap_bytes()
    }

    /// How many records it holds.
    pub(crate) fn len(&self) -> usize {
        self.file.len()
    }

    /// The path of record `i`.
    pub(crate) fn path(&self, i: usize) -> Option<&str> {
        self.file.path(i)
    }

    /// Record `i`, decoded.
    pub(crate) fn record(&self, i: usize) -> Result<Option<TreeRecord>> {
        self.file.record(i).transpose().map_err(corrupt)
    }

    /// The entry of record `i`, decoded.
    pub(crate) fn entry(&self, i: usize) -> Result<Option<Entry>> {
        self.file.entry(i).transpose().map_err(corrupt)
    }

    /// The first position whose path (as bytes) fails `pred` (true of a
    /// prefix).
    pub(crate) fn partition_point(&self, pred: impl FnMut(&[u8]) -> bool) -> usize {
        self.file.partition_point(pred)
    }

    /// The index of `path`, if present.
    pub(crate) fn find(&self, path: &ObjectPath) -> Option<usize> {
        let key = path.as_str().as_bytes();
        let (lo, hi) = self.index.window(key);
        // The first position in the window not below `path`.
        let (mut at, mut end) = (lo, hi);
        while at < end {
            let mid = at + (end - at) / 2;
            if self.file.path_bytes(mid).unwrap_or_default() < key {
                at = mid + 1;
            } else {
                end = mid;
            }
        }
        (at < hi && self.file.path_bytes(at) == Some(key)).then_some(at)
    }
}

/// A decoded metarange with an index of its ranges' last keys, and a
/// shortcut to each range while the range cache holds it.
#[derive(Debug)]
pub(crate) struct MetaRangeData {
    ranges: Vec<RangeInfo>,
    index: Fingerprints<u128>,
    /// Range `i` as last found in the range cache: a weak pointer, so the
    /// cache alone decides what stays (an evicted range's pointer fails),
    /// and how often it was used.
    shortcuts: Box<[Mutex<Shortcut>]>,
}

/// A way to a cached range, and its uses so far.
#[derive(Debug, Default)]
struct Shortcut {
    range: Weak<RangeData>,
    uses: u32,
}

/// One use of a shortcut in this many also looks its range up in the
/// cache, so that the cache's eviction sees each range in use.
const TOUCH_EVERY: u32 = 8;

impl MetaRangeData {
    /// Indexes a metarange.
    pub(crate) fn new(ranges: Vec<RangeInfo>) -> Self {
        let index = Fingerprints::new(ranges.iter().map(|r| r.last.as_str().as_bytes()));
        let shortcuts = ranges.iter().map(|_| Mutex::default()).collect();
        Self {
            ranges,
            index,
            shortcuts,
        }
    }

    /// The memory this metarange holds behind its `Arc` (allocation
    /// included), with the allocation a shortcut to an evicted range keeps.
    pub(crate) fn footprint(&self) -> usize {
        let shortcut = std::mem::size_of::<Mutex<Shortcut>>()
            + heap_block(std::mem::size_of::<RangeData>() + 16);
        heap_block(std::mem::size_of::<Self>() + 16)
            + self.ranges.heap_bytes()
            + self.index.heap_bytes()
            + heap_block(self.shortcuts.len() * shortcut)
    }

    /// Range `i`, if the shortcut to it still holds, and whether this use
    /// is one the cache should also be told of (one in [`TOUCH_EVERY`] of
    /// this range's uses).
    pub(crate) fn shortcut(&self, i: usize) -> Option<(Arc<RangeData>, bool)> {
        let mut slot = self.shortcuts.get(i)?.lock().ok()?;
        let range = slot.range.upgrade()?;
        slot.uses = slot.uses.wrapping_add(1);
        Some((range, slot.uses.is_multiple_of(TOUCH_EVERY)))
    }

    /// Whether a shortcut to range `i` holds (not counted as a use).
    pub(crate) fn has_shortcut(&self, i: usize) -> bool {
        self.shortcuts
            .get(i)
            .and_then(|slot| slot.lock().ok())
            .is_some_and(|slot| slot.range.strong_count() > 0)
    }

    /// Remembers where range `i` is.
    pub(crate) fn set_shortcut(&self, i: usize, range: &Arc<RangeData>) {
        if let Some(Ok(mut slot)) = self.shortcuts.get(i).map(Mutex::lock) {
            slot.range = Arc::downgrade(range);
        }
    }

    /// The first range whose last key is not below `path`: the only one that
    /// can hold it.
    pub(crate) fn locate(&self, path: &ObjectPath) -> usize {
        let (lo, hi) = self.index.window(path.as_str().as_bytes());
        lo + self.ranges[lo..hi].partition_point(|r| r.last < *path)
    }
}

impl Deref for MetaRangeData {
    type Target = [RangeInfo];

    fn deref(&self) -> &[RangeInfo] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tarn_model::{BlockKey, Entry, PhysicalAddress, Timestamp};

    fn records(keys: &std::collections::BTreeSet<String>) -> Vec<TreeRecord> {
        keys.iter()
            .map(|k| {
                let e = Entry {
                    address: PhysicalAddress::Relative(BlockKey::new("data/x").unwrap()),
                    size: 1,
                    checksum: String::new(),
                    last_modified: Timestamp::EPOCH,
                    content_type: None,
                    metadata: Default::default(),
                    tags: Default::default(),
                };
                (ObjectPath::new(k.clone()).unwrap(), e)
            })
            .collect()
    }

    #[test]
    fn a_shortcut_holds_while_the_range_lives_and_not_after() {
        let keys: std::collections::BTreeSet<String> =
            ["a", "b", "c"].iter().map(|k| k.to_string()).collect();
        let range =
            Arc::new(RangeData::parse(tarn_model::tree::encode_range(&records(&keys))).unwrap());
        let info = RangeInfo {
            id: tarn_model::tree::range_id(b"r"),
            first: ObjectPath::new("a").unwrap(),
            last: ObjectPath::new("c").unwrap(),
            count: 3,
            bytes: 1,
        };
        let meta = MetaRangeData::new(vec![info.clone(), info]);
        assert!(meta.shortcut(0).is_none(), "none before the range is found");
        assert!(!meta.has_shortcut(0));
        meta.set_shortcut(0, &range);
        meta.set_shortcut(1, &range);
        assert!(meta.has_shortcut(0));
        let (found, _) = meta.shortcut(0).expect("the cached range");
        assert!(Arc::ptr_eq(&found, &range));
        drop(found);
        // Each range's own uses decide when the cache is told: interleaved
        // uses of two ranges tell it of each, one use in eight.
        let mut touches = [0, 0];
        for _ in 0..16 {
            for (i, t) in touches.iter_mut().enumerate() {
                *t += usize::from(meta.shortcut(i).expect("held").1);
            }
        }
        // Range 0 was used once before the loop: 17 uses, 2 touches; range 1
        // 16 uses, 2 touches.
        assert_eq!(touches, [2, 2]);
        // The cache evicts it: the last strong pointer goes.
        drop(range);
        assert!(
            meta.shortcut(0).is_none(),
            "an evicted range is not kept alive"
        );
        assert!(!meta.has_shortcut(0));
        assert!(meta.shortcut(2).is_none(), "no range past the end");
    }

    /// Lookups of `probes` (and of every key) in a range, a metarange and
    /// a path index of `keys` agree with plain binary searches.
    fn lookups_agree(
        keys: &std::collections::BTreeSet<String>,
        probes: &[String],
    ) -> Result<(), TestCaseError> {
        let recs = records(keys);
        let data = RangeData::parse(tarn_model::tree::encode_range(&recs)).unwrap();
        let infos: Vec<RangeInfo> = keys
            .iter()
            .map(|k| RangeInfo {
                id: tarn_model::tree::range_id(k.as_bytes()),
                first: ObjectPath::new(k.clone()).unwrap(),
                last: ObjectPath::new(k.clone()).unwrap(),
                count: 1,
                bytes: 1,
            })
            .collect();
        let meta = MetaRangeData::new(infos.clone());
        let index = PathIndex::new(keys.iter().map(|k| k.as_bytes()));
        for p in probes.iter().chain(keys.iter()) {
            let path = ObjectPath::new(p.clone()).unwrap();
            let want = recs.binary_search_by(|(k, _)| k.cmp(&path)).ok();
            prop_assert_eq!(data.find(&path), want, "{}", p);
            prop_assert_eq!(
                meta.locate(&path),
                infos.partition_point(|r| r.last < path),
                "{}",
                p
            );
            let (lo, hi) = index.window(p.as_bytes());
            let at = recs.partition_point(|(k, _)| *k < path);
            prop_assert!(
                lo <= at && at <= hi,
                "{} at {} outside {}..{}",
                p,
                at,
                lo,
                hi
            );
            if let Some(i) = want {
                prop_assert!(lo <= i && i < hi, "{} at {} outside {}..{}", p, i, lo, hi);
            }
        }
        Ok(())
    }

    #[test]
    fn keys_outside_the_shared_prefix_keep_their_order() {
        // Most keys share a folder; a few sort before it, inside its
        // prefix's neighbourhood, and after it.
        let mut keys: std::collections::BTreeSet<String> = (0..40)
            .map(|i| format!("tables/events/date=001/part-{i:04}"))
            .collect();
        keys.extend(
            [
                "a/x",
                "tables/",
                "tables/events/date=000/z",
                "tables/events/date=002/a",
                "z/x",
            ]
            .map(String::from),
        );
        let probes = [
            "a",
            "a/y",
            "tables",
            "tables/events/date=001/part-",
            "tables/events/date=001/part-0005x",
            "tables/events/date=001/part-9999",
            "tables/events/date=0011",
            "u",
            "zz",
        ]
        .map(String::from);
        lookups_agree(&keys, &probes).unwrap();
    }

    proptest! {
        #[test]
        fn lookups_agree_with_plain_binary_searches(
            keys in proptest::collection::btree_set("(tables/events/date=00[0-9]/)?part-[0-9a-c]{0,12}(\\.parquet)?", 0..120),
            probes in proptest::collection::vec("(tables/events/date=00[0-9]/)?part-[0-9a-c]{0,12}(\\.parquet)?", 1..30),
        ) {
            lookups_agree(&keys, &probes)?;
        }
    }
}
