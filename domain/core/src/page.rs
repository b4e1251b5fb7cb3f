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

/// Pages through a store listing (in key order, strictly after a cursor) and
/// keeps what starts with `prefix`, sorts after `after` and passes `keep`:
/// at most `amount` of them, plus whether more follow.
pub(crate) async fn filtered<T, F, Fut>(
    prefix: &str,
    after: Option<&str>,
    amount: usize,
    key: impl Fn(&T) -> &str,
    keep: impl Fn(&T) -> bool,
    mut fetch: F,
) -> crate::Result<Page<T>>
where
    F: FnMut(Option<String>, usize) -> Fut,
    Fut: std::future::Future<Output = crate::Result<Vec<T>>>,
{
    let mut cursor: Option<String> = after.map(str::to_owned);
    let mut out = Vec::new();
    'pages: loop {
        let page = fetch(cursor.clone(), amount + 1).await?;
        let done = page.len() <= amount;
        for item in page {
            let k = key(&item).to_owned();
            cursor = Some(k.clone());
            if after.is_some_and(|a| k.as_str() <= a) || k.as_str() < prefix || !keep(&item) {
                continue;
            }
            if !k.starts_with(prefix) {
                break 'pages;
            }
            out.push(item);
            if out.len() > amount {
                break 'pages;
            }
        }
        if done {
            break;
        }
    }
    Ok(Page::from_overfetch(out, amount, |t| key(t).to_owned()))
}
