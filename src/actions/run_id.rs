//! Run ids as lakeFS makes them: 20 characters of lowercase base32hex over
//! 12 bytes whose first four count seconds down to the year 3000, so that
//! newer runs sort first; within a second a counter orders them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The Unix time of 3000-01-01.
const YEAR_3000: i64 = 32_500_915_200;
const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

fn process_part() -> &'static [u8; 5] {
    static PART: OnceLock<[u8; 5]> = OnceLock::new();
    PART.get_or_init(rand::random)
}

fn counter() -> u32 {
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    NEXT.get_or_init(|| AtomicU32::new(rand::random::<u32>() & 0x00ff_ffff))
        .fetch_add(1, Ordering::Relaxed)
}

/// A new run id at `now` (Unix seconds).
pub fn new_run_id(now: i64) -> String {
    let mut bytes = [0u8; 12];
    let down = (YEAR_3000 - now) as u64 as u32;
    bytes[..4].copy_from_slice(&down.to_be_bytes());
    bytes[4..9].copy_from_slice(process_part());
    bytes[9..].copy_from_slice(&counter().to_be_bytes()[1..]);
    encode(&bytes)
}

/// Base32hex, lowercase, unpadded, most significant bits first (so ids
/// compare as their bytes do).
fn encode(bytes: &[u8; 12]) -> String {
    let mut out = String::with_capacity(20);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_twenty_characters_and_newer_sort_first() {
        let old = new_run_id(1_700_000_000);
        let new = new_run_id(1_700_000_001);
        assert_eq!(old.len(), 20);
        assert!(old.bytes().all(|c| ALPHABET.contains(&c)), "{old}");
        assert!(new < old, "{new} sorts before {old}");
        // Within a second, later ids sort later.
        let a = new_run_id(1_700_000_005);
        let b = new_run_id(1_700_000_005);
        assert!(a < b, "{a} < {b}");
    }
}
