//! Committed trees: sorted `(path → entry)` records cut into content-defined
//! *ranges*, listed by a *metarange*. Both are immutable files named by the
//! SHA-256 of their bytes, so an unchanged part of the key space encodes to a
//! byte-identical range in every commit.
//!
//! The encodings here are Tarn's own (versioned by a magic header): compact,
//! length-prefixed, and decoded in one pass.

use crate::{
    BlockKey, Entry, InvalidValue, MetaRangeId, ObjectPath, PhysicalAddress, RangeId,
    StorageNamespace, Timestamp,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

mod range_file;

pub use range_file::RangeFile;

const RANGE_MAGIC: &[u8; 8] = b"TARNRNG1";
const METARANGE_MAGIC: &[u8; 8] = b"TARNMRG1";
const ENTRY_MAGIC: &[u8; 8] = b"TARNENT1";
const LAYERED_MAGIC: &[u8; 8] = b"TARNLYR1";

/// One change a layered tree holds over its base: a path's entry, or `None`
/// where the path is removed.
pub type OverlayRecord = (ObjectPath, Option<Entry>);

/// A tree file, either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodedTree {
    /// A metarange: the tree is its ranges.
    Plain(Vec<RangeInfo>),
    /// A layered tree: the plain tree `base` with `overlay` (sorted by
    /// path) over it.
    Layered {
        /// A plain tree's id.
        base: MetaRangeId,
        /// The changes over it.
        overlay: Vec<OverlayRecord>,
    },
}

/// One record of a committed tree.
pub type TreeRecord = (ObjectPath, Entry);

/// What a metarange says about one of its ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeInfo {
    /// The range's content id.
    pub id: RangeId,
    /// Its first path.
    pub first: ObjectPath,
    /// Its last path.
    pub last: ObjectPath,
    /// How many records it holds.
    pub count: u64,
    /// Its encoded size in bytes.
    pub bytes: u64,
}

/// Where ranges end: after a key whose FNV-1a hash is a multiple of
/// `raggedness` (content-defined, so boundaries survive edits elsewhere), or
/// once a range reaches `max_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitRule {
    /// Average records per range for content-defined cuts.
    pub raggedness: u64,
    /// Hard cap on a range's encoded size.
    pub max_bytes: u64,
}

impl Default for SplitRule {
    fn default() -> Self {
        Self {
            raggedness: 512,
            max_bytes: 4 << 20,
        }
    }
}

impl SplitRule {
    /// Whether a range that now ends with `key` and holds `bytes` should end here.
    pub fn should_break(&self, key: &ObjectPath, bytes: u64) -> bool {
        bytes >= self.max_bytes
            || fnv64a(key.as_str().as_bytes()).is_multiple_of(self.raggedness.max(1))
    }
}

/// The 64-bit FNV-1a hash.
pub fn fnv64a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The id of an encoded range.
pub fn range_id(bytes: &[u8]) -> RangeId {
    RangeId::new(content_hash(bytes)).unwrap_or_else(|_| unreachable!("sha-256 hex is valid"))
}

/// The id of an encoded metarange.
pub fn metarange_id(bytes: &[u8]) -> MetaRangeId {
    MetaRangeId::new(content_hash(bytes)).unwrap_or_else(|_| unreachable!("sha-256 hex is valid"))
}

/// Encodes sorted records as a range file.
pub fn encode_range(records: &[TreeRecord]) -> Vec<u8> {
    let mut w = Writer::with_capacity(16 + records.len() * 128);
    w.raw(RANGE_MAGIC);
    w.uint(records.len() as u64);
    for (path, entry) in records {
        w.str(path.as_str());
        encode_entry(&mut w, entry);
    }
    w.0
}

/// Decodes a range file.
pub fn decode_range(bytes: &[u8]) -> Result<Vec<TreeRecord>, InvalidValue> {
    let mut r = Reader::new(bytes, RANGE_MAGIC)?;
    let n = r.len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let path = ObjectPath::new(r.str()?)?;
        let entry = decode_entry(&mut r)?;
        out.push((path, entry));
    }
    r.finish()?;
    Ok(out)
}

/// Encodes a metarange: the ranges of a tree, in key order.
pub fn encode_metarange(ranges: &[RangeInfo]) -> Vec<u8> {
    let mut w = Writer::with_capacity(16 + ranges.len() * 160);
    w.raw(METARANGE_MAGIC);
    w.uint(ranges.len() as u64);
    for r in ranges {
        w.str(r.id.as_str());
        w.str(r.first.as_str());
        w.str(r.last.as_str());
        w.uint(r.count);
        w.uint(r.bytes);
    }
    w.0
}

/// Decodes a metarange.
pub fn decode_metarange(bytes: &[u8]) -> Result<Vec<RangeInfo>, InvalidValue> {
    let mut r = Reader::new(bytes, METARANGE_MAGIC)?;
    let n = r.len()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(RangeInfo {
            id: RangeId::new(r.str()?)?,
            first: ObjectPath::new(r.str()?)?,
            last: ObjectPath::new(r.str()?)?,
            count: r.uint()?,
            bytes: r.uint()?,
        });
    }
    r.finish()?;
    Ok(out)
}

/// Encodes a layered tree: a plain base and the sorted changes over it.
/// Its id is a metarange id, as a plain tree's.
pub fn encode_layered(base: &MetaRangeId, overlay: &[OverlayRecord]) -> Vec<u8> {
    let mut w = Writer::with_capacity(96 + overlay.len() * 128);
    w.raw(LAYERED_MAGIC);
    w.str(base.as_str());
    w.uint(overlay.len() as u64);
    for (path, value) in overlay {
        w.str(path.as_str());
        match value {
            None => w.uint(0),
            Some(e) => {
                w.uint(1);
                encode_entry(&mut w, e);
            }
        }
    }
    w.0
}

/// Decodes a tree file of either kind.
pub fn decode_tree(bytes: &[u8]) -> Result<DecodedTree, InvalidValue> {
    if !bytes.starts_with(LAYERED_MAGIC) {
        return decode_metarange(bytes).map(DecodedTree::Plain);
    }
    let mut r = Reader::new(bytes, LAYERED_MAGIC)?;
    let base = MetaRangeId::new(r.str()?)?;
    let n = r.len()?;
    let mut overlay: Vec<OverlayRecord> = Vec::with_capacity(n);
    for _ in 0..n {
        let path = ObjectPath::new(r.str()?)?;
        if overlay.last().is_some_and(|(p, _)| *p >= path) {
            return Err(corrupt("overlay out of order"));
        }
        let value = match r.uint()? {
            0 => None,
            1 => Some(decode_entry(&mut r)?),
            _ => return Err(corrupt("bad overlay value")),
        };
        overlay.push((path, value));
    }
    r.finish()?;
    Ok(DecodedTree::Layered { base, overlay })
}

/// Encodes one entry on its own (as metadata stores keep staged entries), in
/// the same layout ranges use.
pub fn encode_entry_value(entry: &Entry) -> Vec<u8> {
    let mut w = Writer::with_capacity(128);
    w.raw(ENTRY_MAGIC);
    encode_entry(&mut w, entry);
    w.0
}

/// Decodes what [`encode_entry_value`] wrote.
pub fn decode_entry_value(bytes: &[u8]) -> Result<Entry, InvalidValue> {
    let mut r = Reader::new(bytes, ENTRY_MAGIC)?;
    let entry = decode_entry(&mut r)?;
    r.finish()?;
    Ok(entry)
}

fn encode_entry(w: &mut Writer, e: &Entry) {
    match &e.address {
        PhysicalAddress::Relative(key) => {
            w.uint(0);
            w.str(key.as_str());
        }
        PhysicalAddress::Full { namespace, key } => {
            w.uint(1);
            w.str(namespace.as_str());
            w.str(key.as_str());
        }
    }
    w.uint(e.size);
    w.str(&e.checksum);
    w.int(e.last_modified.unix_micros());
    // The flag: bit 0, a content type follows; bit 1, tags follow it (files
    // written before tags existed only hold 0 and 1).
    let tagged = if e.tags.is_empty() { 0 } else { 2 };
    match &e.content_type {
        None => w.uint(tagged),
        Some(ct) => {
            w.uint(tagged | 1);
            w.str(ct);
        }
    }
    if !e.tags.is_empty() {
        w.uint(e.tags.len() as u64);
        for (k, v) in &e.tags {
            w.str(k);
            w.str(v);
        }
    }
    w.uint(e.metadata.len() as u64);
    for (k, v) in &e.metadata {
        w.str(k);
        w.str(v);
    }
}

fn decode_entry(r: &mut Reader<'_>) -> Result<Entry, InvalidValue> {
    let address = match r.uint()? {
        0 => PhysicalAddress::Relative(BlockKey::new(r.str()?)?),
        1 => PhysicalAddress::Full {
            namespace: StorageNamespace::new(r.str()?)?,
            key: BlockKey::new(r.str()?)?,
        },
        _ => return Err(corrupt("unknown address kind")),
    };
    let size = r.uint()?;
    let checksum = r.str()?.to_owned();
    let last_modified = Timestamp::from_unix_micros(r.int()?);
    let flag = r.uint()?;
    if flag > 3 {
        return Err(corrupt("bad content type flag"));
    }
    let content_type = match flag & 1 {
        0 => None,
        _ => Some(r.str()?.to_owned()),
    };
    let mut tags = BTreeMap::new();
    if flag & 2 != 0 {
        for _ in 0..r.len()? {
            let k = r.str()?.to_owned();
            let v = r.str()?.to_owned();
            tags.insert(k, v);
        }
    }
    let n = r.len()?;
    let mut metadata = BTreeMap::new();
    for _ in 0..n {
        let k = r.str()?.to_owned();
        let v = r.str()?.to_owned();
        metadata.insert(k, v);
    }
    Ok(Entry {
        address,
        size,
        checksum,
        last_modified,
        content_type,
        metadata,
        tags,
    })
}

/// Steps over an encoded entry, checking its layout (counts, lengths and
/// flags) but not its text: [`decode_entry`] checks that when the entry is
/// read.
fn skip_entry(r: &mut Reader<'_>) -> Result<(), InvalidValue> {
    match r.uint()? {
        0 => r.skip_str()?,
        1 => {
            r.skip_str()?;
            r.skip_str()?;
        }
        _ => return Err(corrupt("unknown address kind")),
    }
    r.uint()?;
    r.skip_str()?;
    r.int()?;
    let flag = r.uint()?;
    if flag > 3 {
        return Err(corrupt("bad content type flag"));
    }
    if flag & 1 != 0 {
        r.skip_str()?;
    }
    let tags = if flag & 2 != 0 { r.len()? } else { 0 };
    for _ in 0..tags {
        r.skip_str()?;
        r.skip_str()?;
    }
    for _ in 0..r.len()? {
        r.skip_str()?;
        r.skip_str()?;
    }
    Ok(())
}

fn corrupt(reason: &'static str) -> InvalidValue {
    InvalidValue::new("tree file", "", reason)
}

struct Writer(Vec<u8>);

impl Writer {
    fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn uint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn int(&mut self, v: i64) {
        // Zig-zag, so small negative times stay short.
        self.uint(((v << 1) ^ (v >> 63)) as u64);
    }
    fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.raw(s.as_bytes());
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], magic: &[u8; 8]) -> Result<Self, InvalidValue> {
        if buf.len() < magic.len() || &buf[..magic.len()] != magic {
            return Err(corrupt("wrong magic header"));
        }
        Ok(Self {
            buf,
            pos: magic.len(),
        })
    }
    fn uint(&mut self) -> Result<u64, InvalidValue> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(corrupt("varint too long"))
    }
    fn int(&mut self) -> Result<i64, InvalidValue> {
        let u = self.uint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    /// A count that must fit in what is left (each item takes at least a byte).
    fn len(&mut self) -> Result<usize, InvalidValue> {
        let n = self.uint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.buf.len() - self.pos => Ok(n),
            _ => Err(corrupt("count larger than the file")),
        }
    }
    fn skip_str(&mut self) -> Result<(), InvalidValue> {
        let n = self.len()?;
        self.pos += n;
        Ok(())
    }
    fn str(&mut self) -> Result<&'a str, InvalidValue> {
        let n = self.len()?;
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        std::str::from_utf8(bytes).map_err(|_| corrupt("invalid UTF-8"))
    }
    fn finish(self) -> Result<(), InvalidValue> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(corrupt("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(super) fn entry(n: u64, ct: Option<&str>, meta: &[(&str, &str)]) -> Entry {
        Entry {
            address: if n.is_multiple_of(3) {
                PhysicalAddress::Full {
                    namespace: StorageNamespace::new("s3://bucket/pre").unwrap(),
                    key: BlockKey::new(format!("imported/{n}")).unwrap(),
                }
            } else {
                PhysicalAddress::Relative(BlockKey::new(format!("data/x/{n}")).unwrap())
            },
            size: n * 1000,
            checksum: format!("{n:032x}"),
            last_modified: Timestamp::from_unix_micros(n as i64 * 7 - 50),
            content_type: ct.map(str::to_owned),
            metadata: meta
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            tags: Default::default(),
        }
    }

    #[test]
    fn layered_trees_round_trip_and_plain_ones_still_read() {
        let base = metarange_id(&encode_metarange(&[]));
        let overlay: Vec<OverlayRecord> = (0..20)
            .map(|n| {
                let path = ObjectPath::new(format!("d/{n:03}/ü")).unwrap();
                (
                    path,
                    (n % 3 != 0).then(|| entry(n, Some("a/b"), &[("k", "v")])),
                )
            })
            .collect();
        let bytes = encode_layered(&base, &overlay);
        assert_eq!(
            decode_tree(&bytes).unwrap(),
            DecodedTree::Layered {
                base: base.clone(),
                overlay: overlay.clone()
            }
        );
        assert!(decode_metarange(&bytes).is_err(), "not a metarange");
        assert_eq!(
            decode_tree(&encode_metarange(&[])).unwrap(),
            DecodedTree::Plain(Vec::new())
        );
        let mut unsorted = overlay;
        unsorted.swap(0, 1);
        assert!(decode_tree(&encode_layered(&base, &unsorted)).is_err());
        for cut in 0..bytes.len() {
            assert!(decode_tree(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
    }

    #[test]
    fn ranges_round_trip_and_ids_follow_content() {
        let recs: Vec<TreeRecord> = (0..50)
            .map(|n| {
                (
                    ObjectPath::new(format!("p/{n:03}/日本 %+")).unwrap(),
                    entry(
                        n,
                        n.is_multiple_of(2).then_some("text/csv"),
                        &[("k", "v"), ("ü", "")],
                    ),
                )
            })
            .collect();
        let bytes = encode_range(&recs);
        assert_eq!(decode_range(&bytes).unwrap(), recs);
        assert_eq!(range_id(&bytes), range_id(&encode_range(&recs)));
        let mut changed = recs.clone();
        changed[7].1.size += 1;
        assert_ne!(range_id(&bytes), range_id(&encode_range(&changed)));
    }

    #[test]
    fn metaranges_round_trip_including_empty() {
        assert!(decode_metarange(&encode_metarange(&[])).unwrap().is_empty());
        let info = RangeInfo {
            id: range_id(b"x"),
            first: ObjectPath::new("a").unwrap(),
            last: ObjectPath::new("z").unwrap(),
            count: 3,
            bytes: 99,
        };
        let bytes = encode_metarange(std::slice::from_ref(&info));
        assert_eq!(decode_metarange(&bytes).unwrap(), vec![info]);
    }

    /// Tags ride in the content-type flag's second bit: tagged entries
    /// round-trip with or without a content type, and an untagged entry is
    /// encoded exactly as before tags existed (so older files still read).
    #[test]
    fn tags_round_trip_and_untagged_entries_keep_the_old_layout() {
        for ct in [None, Some("text/csv")] {
            let mut e = entry(4, ct, &[("m", "1")]);
            let untagged = encode_entry_value(&e);
            assert_eq!(decode_entry_value(&untagged).unwrap(), e);
            e.tags.insert("tier".into(), "gold".into());
            e.tags.insert("k é".into(), String::new());
            let tagged = encode_entry_value(&e);
            assert_ne!(tagged, untagged);
            assert_eq!(decode_entry_value(&tagged).unwrap(), e);
            let recs = vec![(ObjectPath::new("t").unwrap(), e.clone())];
            assert_eq!(decode_range(&encode_range(&recs)).unwrap(), recs);
        }
        // The layout of an untagged entry: the flag is 0 or 1, metadata next.
        let plain = encode_entry_value(&entry(5, None, &[]));
        let mut flagged = plain.clone();
        let at = plain.len() - 2; // flag, then the metadata count (0)
        assert_eq!(&plain[at..], &[0, 0]);
        flagged[at] = 7;
        assert!(decode_entry_value(&flagged).is_err(), "unknown flag bits");
    }

    #[test]
    fn corrupt_files_are_errors_not_panics() {
        let recs = vec![(ObjectPath::new("a").unwrap(), entry(1, None, &[]))];
        let bytes = encode_range(&recs);
        assert!(decode_range(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_range(b"NOTMAGIC").is_err());
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_range(&extra).is_err());
        assert!(
            decode_metarange(&bytes).is_err(),
            "a range is not a metarange"
        );
    }

    #[test]
    fn split_rule_breaks_on_hash_or_size() {
        let rule = SplitRule {
            raggedness: 1,
            max_bytes: u64::MAX,
        };
        assert!(rule.should_break(&ObjectPath::new("any").unwrap(), 0));
        let rule = SplitRule {
            raggedness: u64::MAX,
            max_bytes: 10,
        };
        let k = ObjectPath::new("k").unwrap();
        assert!(!rule.should_break(&k, 9));
        assert!(rule.should_break(&k, 10));
    }

    #[test]
    fn fnv64a_matches_reference_vectors() {
        assert_eq!(fnv64a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv64a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn content_defined_cuts_average_the_raggedness() {
        let rule = SplitRule {
            raggedness: 100,
            max_bytes: u64::MAX,
        };
        let cuts = (0..100_000)
            .filter(|n| rule.should_break(&ObjectPath::new(format!("key-{n}")).unwrap(), 0))
            .count();
        assert!((600..1500).contains(&cuts), "{cuts} cuts");
    }

    proptest! {
        #[test]
        fn any_entry_round_trips(
            size in any::<u64>(),
            micros in any::<i64>(),
            checksum in ".{0,40}",
            ct in proptest::option::of(".{0,20}"),
            meta in proptest::collection::btree_map(".{0,8}", ".{0,8}", 0..4),
            path in "[^\u{0}]{1,60}",
        ) {
            let e = Entry {
                address: PhysicalAddress::Relative(BlockKey::new("data/a").unwrap()),
                size,
                checksum,
                last_modified: Timestamp::from_unix_micros(micros),
                content_type: ct,
                metadata: meta,
                tags: Default::default(),
            };
            prop_assert_eq!(&decode_entry_value(&encode_entry_value(&e)).unwrap(), &e);
            prop_assert!(decode_entry_value(&encode_range(&[])).is_err());
            let recs = vec![(ObjectPath::new(path).unwrap(), e)];
            prop_assert_eq!(decode_range(&encode_range(&recs)).unwrap(), recs);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut with_magic = RANGE_MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = decode_range(&with_magic);
            let mut with_magic = METARANGE_MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = decode_metarange(&with_magic);
        }
    }
}
