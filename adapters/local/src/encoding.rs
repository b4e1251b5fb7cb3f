//! How keys become file system paths, reversibly and safely.
//!
//! A key is split at `/` into segments. Each segment is percent-encoded just
//! enough: `%` becomes `%25`, control characters become `%XX`, and a leading
//! `.` becomes `%2E` (so `.` and `..` are ordinary names and no encoded name
//! starts with `.`, which keeps our own `.tarn-*` directories apart). An empty
//! segment (from `a//b` or a trailing `/`) is `%00`, since NUL cannot appear
//! in a key.
//!
//! A segment longer than [`MAX_CHUNK`] bytes is cut into several directory
//! levels; every chunk after the first is prefixed with `%+`. The last
//! component of a key (the file) ends with a lone `%`, so `a` (file `a%`) and
//! `a/b` (directory `a`, file `b%`) can both exist, as in S3. None of these
//! markers can be produced by encoding text, so decoding is unambiguous.

/// Longest encoded chunk per path component (NAME_MAX is 255 bytes).
pub const MAX_CHUNK: usize = 240;

const EMPTY: &str = "%00";
const CONTINUATION: &str = "%+";
const LEAF: char = '%';

fn encode_segment(seg: &str) -> String {
    if seg.is_empty() {
        return EMPTY.to_owned();
    }
    let mut out = String::with_capacity(seg.len());
    for (i, c) in seg.char_indices() {
        match c {
            '%' => out.push_str("%25"),
            '.' if i == 0 => out.push_str("%2E"),
            c if c.is_ascii_control() => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Cuts an encoded segment into chunks of at most `MAX_CHUNK` bytes, never
/// inside a character or a `%XX` escape.
fn chunks(encoded: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = encoded;
    while rest.len() > MAX_CHUNK {
        let mut cut = MAX_CHUNK;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let bytes = rest.as_bytes();
        if bytes[cut - 1] == b'%' {
            cut -= 1;
        } else if bytes[cut - 2] == b'%' {
            cut -= 2;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    out
}

fn push_segment(out: &mut Vec<String>, seg: &str, leaf: bool) {
    let encoded = encode_segment(seg);
    let parts = chunks(&encoded);
    let last = parts.len() - 1;
    for (i, part) in parts.into_iter().enumerate() {
        let mut name = if i == 0 {
            String::new()
        } else {
            CONTINUATION.to_owned()
        };
        name.push_str(part);
        if leaf && i == last {
            name.push(LEAF);
        }
        out.push(name);
    }
}

/// The directory components of `location` (every segment a directory).
pub fn dir_components(location: &str) -> Vec<String> {
    let mut out = Vec::new();
    for seg in location.split('/') {
        push_segment(&mut out, seg, false);
    }
    out
}

/// The components of `key`: directories, then the file.
pub fn key_components(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut segs = key.split('/').peekable();
    while let Some(seg) = segs.next() {
        push_segment(&mut out, seg, segs.peek().is_none());
    }
    out
}

/// For listing: the directory components that every key starting with
/// `prefix` lies under, and the text those directories stand for.
pub fn prefix_components(prefix: &str) -> (Vec<String>, &str) {
    match prefix.rfind('/') {
        Some(i) => (dir_components(&prefix[..i]), &prefix[..=i]),
        None => (Vec::new(), ""),
    }
}

fn percent_decode(name: &str) -> Option<String> {
    if name == EMPTY {
        return Some(String::new());
    }
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Rebuilds the key from the components below a listing's start directory;
/// the last one must be a file. `None` for names we did not write.
pub fn decode_components(names: &[&str]) -> Option<String> {
    let (last, dirs) = names.split_last()?;
    let leaf = last.strip_suffix(LEAF)?;
    let mut key = String::new();
    for (i, name) in dirs
        .iter()
        .copied()
        .chain(std::iter::once(leaf))
        .enumerate()
    {
        match name.strip_prefix(CONTINUATION) {
            Some(rest) if i > 0 => key.push_str(&percent_decode(rest)?),
            Some(_) => return None,
            None => {
                if i > 0 {
                    key.push('/');
                }
                key.push_str(&percent_decode(name)?);
            }
        }
    }
    Some(key)
}

/// The text every key below the directory `names` (relative to a
/// listing's start directory) begins with: its segments joined by `/`,
/// continuation chunks joined to their segment. `None` for names we did
/// not write.
pub fn decode_dir_prefix(names: &[&str]) -> Option<String> {
    let mut text = String::new();
    for (i, name) in names.iter().enumerate() {
        match name.strip_prefix(CONTINUATION) {
            Some(rest) if i > 0 => text.push_str(&percent_decode(rest)?),
            Some(_) => return None,
            None => {
                if i > 0 {
                    text.push('/');
                }
                text.push_str(&percent_decode(name)?);
            }
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(key: &str) -> Option<String> {
        let comps = key_components(key);
        let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
        decode_components(&refs)
    }

    #[test]
    fn ordinary_keys_stay_readable() {
        assert_eq!(
            key_components("data/abc/file.csv"),
            ["data", "abc", "file.csv%"]
        );
        assert_eq!(key_components("a b+c"), ["a b+c%"]);
    }

    #[test]
    fn dots_percent_and_empty_segments_are_escaped() {
        assert_eq!(key_components("../x"), ["%2E.", "x%"]);
        assert_eq!(key_components("./."), ["%2E", "%2E%"]);
        assert_eq!(key_components("a%20"), ["a%2520%"]);
        assert_eq!(key_components("dir/"), ["dir", "%00%"]);
        assert_eq!(key_components("a//b"), ["a", "%00", "b%"]);
        assert_eq!(key_components("tab\there"), ["tab%09here%"]);
    }

    #[test]
    fn long_segments_become_continuation_directories() {
        let key = "x".repeat(1000);
        let comps = key_components(&key);
        assert_eq!(comps.len(), 5);
        assert!(comps[1..].iter().all(|c| c.starts_with("%+")));
        assert!(comps.iter().all(|c| c.len() <= 255));
        assert_eq!(round_trip(&key).as_deref(), Some(key.as_str()));
    }

    #[test]
    fn chunks_never_split_escapes_or_characters() {
        let key = format!("{}%{}", "a".repeat(238), "é".repeat(300));
        let comps = key_components(&key);
        assert!(comps.iter().all(|c| c.len() <= 255));
        assert_eq!(round_trip(&key).as_deref(), Some(key.as_str()));
    }

    #[test]
    fn prefixes_map_to_their_complete_directories() {
        assert_eq!(
            prefix_components("dir/sub/fi"),
            (vec!["dir".to_owned(), "sub".to_owned()], "dir/sub/")
        );
        assert_eq!(prefix_components("fi"), (vec![], ""));
        assert_eq!(prefix_components("dir/"), (vec!["dir".to_owned()], "dir/"));
    }

    #[test]
    fn foreign_names_do_not_decode() {
        assert_eq!(decode_components(&["file-without-marker"]), None);
        assert_eq!(decode_components(&["bad%zz%"]), None);
    }

    proptest! {
        #[test]
        fn every_key_round_trips_into_safe_names(key in "[a-z./%+ é\\-_]{1,300}|.{1,50}") {
            prop_assume!(!key.contains('\0') && !key.starts_with('/'));
            let comps = key_components(&key);
            for c in &comps {
                prop_assert!(!c.is_empty() && c.len() <= 255 && !c.contains('/'));
                prop_assert!(!c.starts_with('.'), "{c:?}");
            }
            prop_assert_eq!(round_trip(&key), Some(key.clone()));
        }
    }
}
