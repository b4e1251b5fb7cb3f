//! Pagination as lakeFS does it: `after` (exclusive) and `amount`.

/// The largest page any listing returns.
pub const MAX_AMOUNT: usize = 1000;
/// The page size when none is asked for.
pub const DEFAULT_AMOUNT: usize = 100;

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The results, in order.
    pub items: Vec<T>,
    /// Whether more results follow.
    pub has_more: bool,
    /// The `after` that continues the listing ("" when there is nothing more).
    pub next_offset: String,
}

impl<T> Page<T> {
    /// A page from up to `amount + 1` fetched items: the extra one only tells
    /// that more follow. `key` gives the offset of an item.
    pub fn from_overfetch(mut items: Vec<T>, amount: usize, key: impl Fn(&T) -> String) -> Self {
        let has_more = items.len() > amount;
        items.truncate(amount);
        let next_offset = if has_more {
            items.last().map(&key).unwrap_or_default()
        } else {
            String::new()
        };
        Self {
            items,
            has_more,
            next_offset,
        }
    }
}

/// Clamps a requested page size to `1..=MAX_AMOUNT` (absent: the default).
pub fn amount(requested: Option<usize>) -> usize {
    requested.unwrap_or(DEFAULT_AMOUNT).clamp(1, MAX_AMOUNT)
}
