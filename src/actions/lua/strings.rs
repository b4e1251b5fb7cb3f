//! `strings`, as Go's `strings` functions lakeFS's library wraps: on byte
//! strings (a Latin-1 file splits as well as a UTF-8 one), results streamed
//! into Lua (whose memory limit counts them) or sized before they are built.

use super::convert::mark_array;
use super::within_budget;
use mlua::{Lua, LuaString, Table};

/// Where `needle` (not empty) occurs in `hay`, without overlaps, in
/// linear time.
fn positions<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let finder = memchr::memmem::Finder::new(needle);
    let mut from = 0;
    std::iter::from_fn(move || {
        if needle.is_empty() || from + needle.len() > hay.len() {
            return None;
        }
        let at = finder.find(&hay[from..])? + from;
        from = at + needle.len();
        Some(at)
    })
}

/// The byte offsets where UTF-8 characters start (an invalid byte counts
/// as one), and the end.
fn char_starts(s: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        out.push(i);
        let width = match s[i] {
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            b if b >= 0xC0 => 2,
            _ => 1,
        };
        let end = (i + width).min(s.len());
        let valid = std::str::from_utf8(&s[i..end]).is_ok();
        i = if valid { end } else { i + 1 };
    }
    out
}

fn split(lua: &Lua, s: &[u8], sep: &[u8]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let mut n = 0;
    if sep.is_empty() {
        let mut starts = char_starts(s);
        starts.push(s.len());
        for w in starts.windows(2) {
            n += 1;
            t.raw_set(n, lua.create_string(&s[w[0]..w[1]])?)?;
        }
    } else {
        let mut from = 0;
        for at in positions(s, sep) {
            n += 1;
            t.raw_set(n, lua.create_string(&s[from..at])?)?;
            from = at + sep.len();
        }
        t.raw_set(n + 1, lua.create_string(&s[from..])?)?;
    }
    mark_array(lua, &t)?;
    Ok(t)
}

/// Go's `strings.Replace`: at most `n` (all when negative) occurrences;
/// an empty `old` matches before every character and at the end.
fn replace(lua: &Lua, s: &[u8], old: &[u8], new: &[u8], n: i64) -> mlua::Result<Vec<u8>> {
    let limit = usize::try_from(n).unwrap_or(usize::MAX);
    let at: Vec<usize> = if old.is_empty() {
        let mut starts = char_starts(s);
        starts.push(s.len());
        starts.into_iter().take(limit).collect()
    } else {
        positions(s, old).take(limit).collect()
    };
    let size = (s.len() - at.len() * old.len()).saturating_add(at.len().saturating_mul(new.len()));
    within_budget(lua, size, "strings.replace")?;
    let mut out = Vec::with_capacity(size);
    let mut from = 0;
    for i in at {
        out.extend_from_slice(&s[from..i]);
        out.extend_from_slice(new);
        from = i + old.len();
    }
    out.extend_from_slice(&s[from..]);
    Ok(out)
}

fn trim(s: &[u8]) -> &[u8] {
    match std::str::from_utf8(s) {
        Ok(text) => text.trim().as_bytes(),
        Err(_) => s.trim_ascii(),
    }
}

/// `strings`: `split`, `trim`, `replace`, `has_prefix`, `has_suffix`,
/// `contains`.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "split",
        lua.create_function(|lua, (s, sep): (LuaString, LuaString)| {
            split(lua, &s.as_bytes(), &sep.as_bytes())
        })?,
    )?;
    m.set(
        "trim",
        lua.create_function(|lua, s: LuaString| lua.create_string(trim(&s.as_bytes())))?,
    )?;
    m.set(
        "replace",
        lua.create_function(
            |lua, (s, old, new, n): (LuaString, LuaString, LuaString, i64)| {
                let out = replace(lua, &s.as_bytes(), &old.as_bytes(), &new.as_bytes(), n)?;
                lua.create_string(out)
            },
        )?,
    )?;
    m.set(
        "has_prefix",
        lua.create_function(|_, (s, p): (LuaString, LuaString)| {
            Ok(s.as_bytes().starts_with(&p.as_bytes()))
        })?,
    )?;
    m.set(
        "has_suffix",
        lua.create_function(|_, (s, p): (LuaString, LuaString)| {
            Ok(s.as_bytes().ends_with(&p.as_bytes()))
        })?,
    )?;
    m.set(
        "contains",
        lua.create_function(|_, (s, p): (LuaString, LuaString)| {
            let (s, p) = (s.as_bytes(), p.as_bytes());
            Ok(p.is_empty() || positions(&s, &p).next().is_some())
        })?,
    )?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_as_go() {
        let lua = Lua::new();
        let r = |s: &str, o: &str, n: &str, k: i64| {
            String::from_utf8(replace(&lua, s.as_bytes(), o.as_bytes(), n.as_bytes(), k).unwrap())
                .unwrap()
        };
        assert_eq!(r("aaa", "a", "b", 2), "bba");
        assert_eq!(r("aaa", "a", "b", -1), "bbb");
        assert_eq!(r("ab", "", "-", -1), "-a-b-");
        assert_eq!(r("ab", "", "-", 1), "-ab");
        assert_eq!(r("héllo", "", ".", -1), ".h.é.l.l.o.");
    }

    #[test]
    fn a_replace_past_the_budget_is_refused() {
        let lua = Lua::new();
        let big = vec![b'x'; 1 << 20];
        let e = replace(&lua, &[b'a'; 100], b"", &big, -1).unwrap_err();
        assert!(e.to_string().contains("memory limit"), "{e}");
    }

    #[test]
    fn bytes_that_are_not_utf8_split_and_trim() {
        let lua = Lua::new();
        super::super::convert::install_array_mark(&lua).unwrap();
        let t = split(&lua, b"id;nam\xe9\n1;x", b"\n").unwrap();
        let first: LuaString = t.raw_get(1).unwrap();
        assert_eq!(&*first.as_bytes(), b"id;nam\xe9");
        assert_eq!(trim(b" \xe9 "), b"\xe9");
        let chars = split(&lua, "aé".as_bytes(), b"").unwrap();
        assert_eq!(chars.raw_len(), 2);
    }
}
