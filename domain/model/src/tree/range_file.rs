//! A range file held encoded: see [`RangeFile`].

use super::{corrupt, decode_entry, skip_entry, Reader, TreeRecord, RANGE_MAGIC};
use crate::{Entry, InvalidValue, ObjectPath};

/// A range file kept encoded, with the offset of each record: paths are read
/// in place and an entry is decoded only when asked for. It holds about
/// half the memory of the decoded records, and reading one record of a range
/// costs a pass over the file, not an allocation per record.
#[derive(Debug)]
pub struct RangeFile {
    bytes: Box<[u8]>,
    /// Where each record's path starts (its length prefix).
    offsets: Vec<u32>,
}

impl RangeFile {
    /// Indexes a range file, checking its layout and paths (an entry's text
    /// is checked when it is decoded).
    pub fn parse(bytes: Vec<u8>) -> Result<Self, InvalidValue> {
        if u32::try_from(bytes.len()).is_err() {
            return Err(corrupt("range file too large"));
        }
        let mut r = Reader::new(&bytes, RANGE_MAGIC)?;
        let n = r.len()?;
        let mut offsets = Vec::with_capacity(n);
        for _ in 0..n {
            offsets.push(r.pos as u32);
            ObjectPath::check(r.str()?)?;
            skip_entry(&mut r)?;
        }
        r.finish()?;
        Ok(Self {
            bytes: bytes.into_boxed_slice(),
            offsets,
        })
    }

    /// How many records the range holds.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    fn reader_at(&self, i: usize) -> Option<Reader<'_>> {
        let pos = *self.offsets.get(i)? as usize;
        Some(Reader {
            buf: &self.bytes,
            pos,
        })
    }

    /// The path of record `i`.
    pub fn path(&self, i: usize) -> Option<&str> {
        // Checked by `parse`: this cannot fail.
        self.reader_at(i)?.str().ok()
    }

    /// The bytes of the path of record `i` (which sort as the paths do),
    /// without the text check [`Self::path`] makes.
    pub fn path_bytes(&self, i: usize) -> Option<&[u8]> {
        let mut r = self.reader_at(i)?;
        let n = usize::try_from(r.uint().ok()?).ok()?;
        self.bytes.get(r.pos..r.pos + n)
    }

    /// Record `i`, decoded.
    pub fn record(&self, i: usize) -> Option<Result<TreeRecord, InvalidValue>> {
        let mut r = self.reader_at(i)?;
        Some((|| {
            let path = ObjectPath::new(r.str()?)?;
            Ok((path, decode_entry(&mut r)?))
        })())
    }

    /// The entry of record `i`, decoded.
    pub fn entry(&self, i: usize) -> Option<Result<Entry, InvalidValue>> {
        let mut r = self.reader_at(i)?;
        Some(r.str().and_then(|_| decode_entry(&mut r)))
    }

    /// The first position whose path (as bytes) does not satisfy `pred`
    /// (which must be true of a prefix of the records, as for
    /// `slice::partition_point`).
    pub fn partition_point(&self, mut pred: impl FnMut(&[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.path_bytes(mid).unwrap_or_default()) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Heap bytes held, allocator overhead included.
    pub fn heap_bytes(&self) -> usize {
        crate::footprint::heap_block(self.bytes.len())
            + crate::footprint::heap_block(self.offsets.capacity() * 4)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::entry;
    use super::super::{decode_range, encode_range};
    use super::*;

    /// A range kept encoded answers as the decoded records do; every file
    /// the decoder refuses (truncations, bytes flipped) is refused when
    /// read, or where the bad record is decoded.
    #[test]
    fn encoded_ranges_read_as_decoded_ones() {
        let recs: Vec<TreeRecord> = (0..40)
            .map(|n| {
                let mut e = entry(n, n.is_multiple_of(2).then_some("a/b"), &[("k", "v")]);
                if n.is_multiple_of(5) {
                    e.tags.insert("t".into(), format!("{n}"));
                }
                (ObjectPath::new(format!("p/{n:03}/é")).unwrap(), e)
            })
            .collect();
        let bytes = encode_range(&recs);
        let file = RangeFile::parse(bytes.clone()).unwrap();
        assert_eq!(file.len(), recs.len());
        for (i, (p, e)) in recs.iter().enumerate() {
            assert_eq!(file.path(i), Some(p.as_str()));
            assert_eq!(file.entry(i).unwrap().unwrap(), *e);
            assert_eq!(file.record(i).unwrap().unwrap(), (p.clone(), e.clone()));
            assert_eq!(file.partition_point(|x| x < p.as_str().as_bytes()), i);
            assert_eq!(file.path_bytes(i), Some(p.as_str().as_bytes()));
        }
        assert!(file.path(recs.len()).is_none() && file.record(recs.len()).is_none());
        assert_eq!(file.partition_point(|_| true), recs.len());
        assert!(RangeFile::parse(encode_range(&[])).unwrap().is_empty());
        for cut in 0..bytes.len() {
            assert!(
                RangeFile::parse(bytes[..cut].to_vec()).is_err(),
                "cut {cut}"
            );
        }
        for at in 8..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                let decoded = decode_range(&bad);
                let parsed = RangeFile::parse(bad);
                match (&decoded, &parsed) {
                    (Ok(d), Ok(f)) => {
                        let got: Vec<TreeRecord> = (0..f.len())
                            .map(|i| f.record(i).unwrap().unwrap())
                            .collect();
                        assert_eq!(*d, got, "byte {at} ^ {flip:#x}");
                    }
                    (Ok(_), Err(e)) => panic!("byte {at} ^ {flip:#x}: parsing said {e}"),
                    (Err(_), Err(_)) => {}
                    // Text in an entry is checked as it is decoded.
                    (Err(_), Ok(f)) => assert!(
                        (0..f.len()).any(|i| f.record(i).unwrap().is_err()),
                        "byte {at} ^ {flip:#x}: a corrupt file reads whole"
                    ),
                }
            }
        }
    }
}
