//! Conformance of `Clock` and `IdGenerator` implementations.

use crate::{Clock, IdGenerator};
use std::collections::HashSet;

/// Checks the `IdGenerator` contract on `gen`: charset, length, uniqueness
/// and creation-time order within one process.
pub fn check_id_generator(gen: &dyn IdGenerator) {
    let ids: Vec<String> = (0..10_000).map(|_| gen.new_id()).collect();
    for id in &ids {
        assert!((1..=64).contains(&id.len()), "length of {id:?}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
            "charset of {id:?}"
        );
    }
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ids are unique");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids sort by creation order"
    );
}

/// Checks that `clock` never goes backwards.
pub fn check_clock(clock: &dyn Clock) {
    let mut last = clock.now();
    for _ in 0..1000 {
        let now = clock.now();
        assert!(now >= last, "clock went backwards: {last} then {now}");
        last = now;
    }
}
