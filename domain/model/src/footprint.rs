//! How much memory a value really holds: the heap blocks it owns, each as
//! the allocator hands it out (with its header and size-class rounding).
//! Caches weigh their entries with this, so that a budget in bytes bounds
//! the process's memory, not an encoded size that decoding multiplies.
//! `tests/footprint.rs` checks the estimates against a counting allocator.

use crate::records::{Commit, Entry, PhysicalAddress};
use crate::tree::{RangeInfo, TreeRecord};
use std::collections::BTreeMap;

/// Bytes an allocator spends on a request of `n` bytes: an 8-byte header,
/// 16-byte alignment, 32 bytes at least (glibc's malloc; jemalloc's and
/// mimalloc's size classes round similarly). Zero for an empty request,
/// which allocates nothing.
pub const fn heap_block(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let rounded = (n + 8 + 15) & !15;
    if rounded < 32 {
        32
    } else {
        rounded
    }
}

/// The heap bytes a value owns (not counting its own inline size).
pub trait HeapSize {
    /// Heap bytes owned, allocator overhead included.
    fn heap_bytes(&self) -> usize;
}

impl HeapSize for str {
    fn heap_bytes(&self) -> usize {
        heap_block(self.len())
    }
}

impl HeapSize for String {
    fn heap_bytes(&self) -> usize {
        heap_block(self.capacity())
    }
}

impl<T: HeapSize> HeapSize for Option<T> {
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, HeapSize::heap_bytes)
    }
}

impl<T: HeapSize> HeapSize for Vec<T> {
    fn heap_bytes(&self) -> usize {
        heap_block(self.capacity() * std::mem::size_of::<T>())
            + self.iter().map(HeapSize::heap_bytes).sum::<usize>()
    }
}

/// B-tree nodes hold up to 11 pairs and are about two-thirds full once a
/// map grows past one node; a map of up to 11 pairs is one leaf.
const BTREE_CAPACITY: usize = 11;
const BTREE_AVERAGE_FILL: usize = 7;

impl HeapSize for BTreeMap<String, String> {
    fn heap_bytes(&self) -> usize {
        let nodes = match self.len() {
            0 => 0,
            n if n <= BTREE_CAPACITY => 1,
            n => n.div_ceil(BTREE_AVERAGE_FILL) + n / 50 + 1,
        };
        // A leaf: the pairs, a parent pointer, its index and length.
        let leaf = BTREE_CAPACITY * std::mem::size_of::<(String, String)>() + 16;
        nodes * heap_block(leaf)
            + self
                .iter()
                .map(|(k, v)| k.heap_bytes() + v.heap_bytes())
                .sum::<usize>()
    }
}

impl HeapSize for PhysicalAddress {
    fn heap_bytes(&self) -> usize {
        match self {
            Self::Relative(key) => key.as_str().heap_bytes(),
            Self::Full { namespace, key } => {
                namespace.as_str().heap_bytes() + key.as_str().heap_bytes()
            }
        }
    }
}

impl HeapSize for Entry {
    fn heap_bytes(&self) -> usize {
        self.address.heap_bytes()
            + self.checksum.heap_bytes()
            + self.content_type.heap_bytes()
            + self.metadata.heap_bytes()
            + self.tags.heap_bytes()
    }
}

impl HeapSize for TreeRecord {
    fn heap_bytes(&self) -> usize {
        self.0.as_str().heap_bytes() + self.1.heap_bytes()
    }
}

impl HeapSize for crate::tree::OverlayRecord {
    fn heap_bytes(&self) -> usize {
        self.0.as_str().heap_bytes() + self.1.heap_bytes()
    }
}

impl HeapSize for RangeInfo {
    fn heap_bytes(&self) -> usize {
        self.id.as_str().heap_bytes()
            + self.first.as_str().heap_bytes()
            + self.last.as_str().heap_bytes()
    }
}

impl HeapSize for Commit {
    fn heap_bytes(&self) -> usize {
        self.id.as_str().heap_bytes()
            + self.committer.heap_bytes()
            + self.message.heap_bytes()
            + self.meta_range_id.as_str().heap_bytes()
            + self.metadata.heap_bytes()
            + heap_block(self.parents.capacity() * std::mem::size_of::<crate::CommitId>())
            + self
                .parents
                .iter()
                .map(|p| p.as_str().heap_bytes())
                .sum::<usize>()
    }
}

/// The whole memory a value takes: its inline size plus what it owns.
pub fn total_bytes<T: HeapSize>(value: &T) -> usize {
    std::mem::size_of::<T>() + value.heap_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_like_malloc() {
        assert_eq!(heap_block(0), 0);
        assert_eq!(heap_block(1), 32);
        assert_eq!(heap_block(24), 32);
        assert_eq!(heap_block(25), 48);
        assert_eq!(heap_block(100), 112);
    }

    #[test]
    fn empty_map_owns_nothing_and_one_pair_owns_a_node() {
        let mut m = BTreeMap::new();
        assert_eq!(m.heap_bytes(), 0);
        m.insert("k".to_owned(), "v".to_owned());
        assert!(m.heap_bytes() > 11 * 48);
    }
}
