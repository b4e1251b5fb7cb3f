//! What a commit changed, in a few bytes kept beside its record: a Bloom
//! filter over every path the commit changed relative to its first parent
//! and over each of their folders (`a/`, `a/b/`, and the root `""`). A
//! path-filtered log asks it first and reads trees only for the commits it
//! cannot rule out.
//!
//! The answers are "no" (certain) or "maybe". A commit that changed many
//! paths keeps only its folders (object questions are then asked of the
//! object's folder); one that changed many folders keeps nothing, and every
//! question about it is a "maybe".

use crate::InvalidValue;
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Keys (paths, and folders) a summary holds at most: 16 KiB of filter.
pub const MAX_KEYS: usize = 8192;
/// Filter bits per key: about one false "maybe" in 2,000 questions.
const BITS_PER_KEY: usize = 16;
/// Bit probes per key.
const PROBES: u8 = 11;
const MAGIC: &[u8; 3] = b"CP1";
/// Flag: the changed paths themselves are in the filter, not only folders.
const HAS_PATHS: u8 = 1;

/// A key's two hashes, from which its probes follow (double hashing).
type KeyHash = (u64, u64);

fn key_hash(key: &str) -> KeyHash {
    let d = Sha256::digest(key.as_bytes());
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[i..i + 8]);
        u64::from_le_bytes(b)
    };
    (word(0), word(8) | 1)
}

/// The folder of `path`: all up to and including its last `/` (`""` when it
/// has none).
fn folder_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

/// The changed paths of one commit, in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPaths {
    bits: Vec<u8>,
    probes: u8,
    has_paths: bool,
}

/// A summary as stored, read in place.
#[derive(Clone, Copy)]
struct View<'a> {
    bits: &'a [u8],
    probes: u8,
    has_paths: bool,
}

impl View<'_> {
    fn contains(&self, (h1, h2): KeyHash) -> bool {
        let m = self.bits.len() as u64 * 8;
        if m == 0 {
            return false;
        }
        (0..u64::from(self.probes)).all(|i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % m;
            self.bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0
        })
    }
}

/// Questions about paths, hashed once, to ask of many summaries (a log
/// walk asks every commit the same).
#[derive(Debug, Clone)]
pub struct PathQuery {
    /// Per object: its own hash and its folder's.
    objects: Vec<(KeyHash, KeyHash)>,
    /// Per prefix: its folder's hash.
    prefixes: Vec<KeyHash>,
}

impl PathQuery {
    /// Commits that changed one of `objects`, or a path starting with one
    /// of `prefixes`.
    pub fn new<'a>(
        objects: impl IntoIterator<Item = &'a str>,
        prefixes: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self {
            objects: objects
                .into_iter()
                .map(|o| (key_hash(o), key_hash(folder_of(o))))
                .collect(),
            prefixes: prefixes
                .into_iter()
                .map(|p| key_hash(folder_of(p)))
                .collect(),
        }
    }

    fn ask(&self, v: View<'_>) -> bool {
        let object = |(own, folder): &(KeyHash, KeyHash)| {
            // Without the paths themselves, an object is asked of its folder.
            v.contains(if v.has_paths { *own } else { *folder })
        };
        // Every path under a prefix has the prefix's folder among its own.
        self.objects.iter().any(object) || self.prefixes.iter().any(|f| v.contains(*f))
    }

    /// Whether a commit with this summary may have changed what is asked
    /// (`false`: it did not).
    pub fn may_match(&self, summary: &ChangedPaths) -> bool {
        self.ask(summary.view())
    }

    /// As [`Self::may_match`], of a summary as stored, read in place;
    /// `None` when the bytes are not a summary.
    pub fn may_match_stored(&self, stored: &[u8]) -> Option<bool> {
        Some(self.ask(view(stored).ok()?))
    }
}

/// Reads a stored summary in place.
fn view(bytes: &[u8]) -> Result<View<'_>, InvalidValue> {
    let bad = |reason| InvalidValue::new("changed-paths summary", "", reason);
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| bad("unknown format"))?;
    let [flags, probes, bits @ ..] = rest else {
        return Err(bad("truncated"));
    };
    if *probes == 0 || *probes > 32 || *flags & !HAS_PATHS != 0 {
        return Err(bad("bad header"));
    }
    Ok(View {
        bits,
        probes: *probes,
        has_paths: flags & HAS_PATHS != 0,
    })
}

impl ChangedPaths {
    fn view(&self) -> View<'_> {
        View {
            bits: &self.bits,
            probes: self.probes,
            has_paths: self.has_paths,
        }
    }

    /// Whether the commit may have changed `path` (`false`: it did not).
    pub fn may_touch_object(&self, path: &str) -> bool {
        PathQuery::new([path], []).may_match(self)
    }

    /// Whether the commit may have changed a path starting with `prefix`
    /// (`false`: it did not).
    pub fn may_touch_prefix(&self, prefix: &str) -> bool {
        PathQuery::new([], [prefix]).may_match(self)
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.bits.len());
        out.extend_from_slice(MAGIC);
        out.push(if self.has_paths { HAS_PATHS } else { 0 });
        out.push(self.probes);
        out.extend_from_slice(&self.bits);
        out
    }

    /// Reads the stored form.
    pub fn decode(bytes: &[u8]) -> Result<Self, InvalidValue> {
        let v = view(bytes)?;
        Ok(Self {
            bits: v.bits.to_vec(),
            probes: v.probes,
            has_paths: v.has_paths,
        })
    }
}

/// Collects a commit's changed paths, in any order, within a bounded
/// memory (a hash per key, [`MAX_KEYS`] of each kind at most).
#[derive(Debug, Default)]
pub struct ChangedPathsBuilder {
    paths: Vec<KeyHash>,
    too_many_paths: bool,
    folders: HashSet<KeyHash>,
    too_many_folders: bool,
    /// The folder of the path added last, with all above it already
    /// counted: consecutive paths in order share most of theirs.
    last_folder: Option<String>,
}

impl ChangedPathsBuilder {
    /// An empty builder (a commit that changed nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that `path` changed.
    pub fn add(&mut self, path: &str) {
        if !self.too_many_paths {
            if self.paths.len() < MAX_KEYS {
                self.paths.push(key_hash(path));
            } else {
                self.too_many_paths = true;
                self.paths = Vec::new();
            }
        }
        if self.too_many_folders {
            return;
        }
        let folder = folder_of(path);
        let last = self.last_folder.as_deref();
        if last == Some(folder) {
            return;
        }
        // The root and every folder down to the path's own.
        let mut end = 0;
        loop {
            let f = &folder[..end];
            if !last.is_some_and(|l| l.starts_with(f)) {
                self.folders.insert(key_hash(f));
            }
            if self.folders.len() > MAX_KEYS {
                self.too_many_folders = true;
                self.folders = HashSet::new();
                return;
            }
            match folder[end..].find('/') {
                Some(i) => end += i + 1,
                None => break,
            }
        }
        self.last_folder = Some(folder.to_owned());
    }

    /// The summary, or `None` when the commit changed too many folders for
    /// one to be useful.
    pub fn finish(self) -> Option<ChangedPaths> {
        if self.too_many_folders {
            return None;
        }
        let has_paths = !self.too_many_paths;
        let keys: Vec<KeyHash> = self
            .folders
            .into_iter()
            .chain(if has_paths { self.paths } else { Vec::new() })
            .collect();
        let bytes = (keys.len() * BITS_PER_KEY).div_ceil(8).max(8);
        let mut summary = ChangedPaths {
            bits: vec![0; bytes],
            probes: PROBES,
            has_paths,
        };
        let m = summary.bits.len() as u64 * 8;
        for (h1, h2) in keys {
            for i in 0..u64::from(PROBES) {
                let bit = h1.wrapping_add(i.wrapping_mul(h2)) % m;
                summary.bits[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build<'a>(paths: impl IntoIterator<Item = &'a str>) -> ChangedPaths {
        let mut b = ChangedPathsBuilder::new();
        for p in paths {
            b.add(p);
        }
        b.finish().expect("few folders")
    }

    #[test]
    fn an_empty_commit_touched_nothing() {
        let s = build([]);
        assert!(!s.may_touch_object("a"));
        assert!(!s.may_touch_prefix(""));
    }

    #[test]
    fn folders_and_paths_answer_yes() {
        let s = build(["data/2024/01/a.parquet", "data/2024/02/b.parquet", "top"]);
        for p in [
            "",
            "d",
            "data/",
            "data/20",
            "data/2024/0",
            "data/2024/02/b",
            "to",
        ] {
            assert!(s.may_touch_prefix(p), "{p}");
        }
        assert!(s.may_touch_object("top"));
        assert!(s.may_touch_object("data/2024/01/a.parquet"));
        // Far fewer than one false "maybe" in these (16 bits a key).
        let misses = (0..1000)
            .filter(|i| s.may_touch_object(&format!("data/2024/01/x{i}")))
            .count();
        assert!(misses < 10, "{misses} false maybes");
        let misses = (0..1000)
            .filter(|i| s.may_touch_prefix(&format!("other{i}/")))
            .count();
        assert!(misses < 10, "{misses} false maybes");
    }

    #[test]
    fn many_paths_keep_their_folders_and_many_folders_keep_nothing() {
        let mut b = ChangedPathsBuilder::new();
        for i in 0..MAX_KEYS + 1 {
            b.add(&format!("big/file-{i:06}"));
        }
        let s = b.finish().expect("one folder");
        assert!(!s.has_paths);
        assert!(s.may_touch_object("big/file-000001"));
        assert!(
            s.may_touch_object("big/never-written"),
            "asked of its folder"
        );
        assert!(!s.may_touch_prefix("small/"));
        assert!(s.encode().len() < 64, "a folder or two: a few bytes");

        let mut b = ChangedPathsBuilder::new();
        for i in 0..MAX_KEYS + 1 {
            b.add(&format!("d{i:06}/f"));
        }
        assert_eq!(b.finish(), None);
    }

    #[test]
    fn decoding_refuses_what_is_not_a_summary() {
        assert!(ChangedPaths::decode(b"").is_err());
        assert!(ChangedPaths::decode(b"CP1").is_err());
        assert!(ChangedPaths::decode(b"CP1\x00\x00abc").is_err());
        assert!(ChangedPaths::decode(b"CP1\x02\x0babc").is_err());
        assert!(ChangedPaths::decode(b"XX1\x01\x0babc").is_err());
    }

    proptest! {
        /// No false "no": every changed path, each of its prefixes, and
        /// every object under a changed folder when paths were dropped.
        #[test]
        fn never_a_false_no(
            paths in proptest::collection::btree_set("([ab]{1,2}/){0,3}[a-c]{1,3}", 0..40),
            many in any::<bool>(),
        ) {
            let mut b = ChangedPathsBuilder::new();
            for p in &paths {
                b.add(p);
            }
            if many {
                for i in 0..MAX_KEYS {
                    b.add(&format!("zz/{i}"));
                }
            }
            let s = b.finish().expect("few folders");
            let s = ChangedPaths::decode(&s.encode()).expect("round trip");
            let stored = s.encode();
            for p in &paths {
                prop_assert!(s.may_touch_object(p), "{}", p);
                prop_assert_eq!(PathQuery::new([p.as_str()], []).may_match_stored(&stored), Some(true));
                for end in 0..=p.len() {
                    prop_assert!(s.may_touch_prefix(&p[..end]), "{} of {}", &p[..end], p);
                }
            }
        }
    }
}
