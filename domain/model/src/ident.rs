//! lakeFS's typed, length-prefixed hashing ("ident") encoding.
//!
//! Commit ids and entry identities are SHA-256 digests over this encoding, so
//! that ids stay compatible with lakeFS (reference §4.4).

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const TAG_BYTES: u8 = 0;
const TAG_STRING: u8 = 1;
const TAG_INT64: u8 = 2;
const TAG_STRING_SLICE: u8 = 3;
const TAG_STRING_MAP: u8 = 4;
const TAG_EMBEDDED: u8 = 5;

/// Streams typed values into a SHA-256 digest using lakeFS's ident encoding.
#[derive(Default, Clone)]
pub struct IdentHasher(Sha256);

impl IdentHasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    fn raw_int(&mut self, v: i64) {
        self.0.update([8u8]);
        self.0.update(v.to_be_bytes());
    }

    fn tagged_bytes(&mut self, tag: u8, b: &[u8]) {
        self.0.update([tag]);
        self.int64_untagged(b.len() as i64);
        self.0.update(b);
    }

    fn int64_untagged(&mut self, v: i64) {
        self.0.update([TAG_INT64]);
        self.raw_int(v);
    }

    /// Appends a 64-bit integer.
    pub fn int64(&mut self, v: i64) -> &mut Self {
        self.int64_untagged(v);
        self
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.tagged_bytes(TAG_BYTES, b);
        self
    }

    /// Appends a string.
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.tagged_bytes(TAG_STRING, s.as_bytes());
        self
    }

    /// Appends a list of strings.
    pub fn string_slice<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        self.0.update([TAG_STRING_SLICE]);
        self.int64_untagged(items.len() as i64);
        for s in items {
            self.string(s.as_ref());
        }
        self
    }

    /// Appends a map of strings in key order.
    pub fn string_map(&mut self, map: &BTreeMap<String, String>) -> &mut Self {
        self.0.update([TAG_STRING_MAP]);
        self.int64_untagged(map.len() as i64);
        for (k, v) in map {
            self.string(k);
            self.string(v);
        }
        self
    }

    /// Appends the digest of another encoding (lakeFS's `Embedded`).
    pub fn embedded(&mut self, digest: &[u8; 32]) -> &mut Self {
        self.tagged_bytes(TAG_EMBEDDED, digest);
        self
    }

    /// The SHA-256 of everything appended.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_is_tag_len_then_big_endian() {
        let mut a = IdentHasher::new();
        a.int64(1);
        let mut raw = Sha256::new();
        raw.update([2u8, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(a.finish(), <[u8; 32]>::from(raw.finalize()));
    }

    #[test]
    fn string_is_tag_then_int64_length_then_bytes() {
        let mut a = IdentHasher::new();
        a.string("ab");
        let mut raw = Sha256::new();
        raw.update([1u8, 2, 8, 0, 0, 0, 0, 0, 0, 0, 2, b'a', b'b']);
        assert_eq!(a.finish(), <[u8; 32]>::from(raw.finalize()));
    }

    #[test]
    fn maps_hash_in_key_order_and_differ_from_slices() {
        let mut m = BTreeMap::new();
        m.insert("b".to_owned(), "2".to_owned());
        m.insert("a".to_owned(), "1".to_owned());
        let mut h1 = IdentHasher::new();
        h1.string_map(&m);
        let mut h2 = IdentHasher::new();
        h2.string_slice(&["a", "1", "b", "2"]);
        assert_ne!(h1.finish(), h2.finish());
    }
}
