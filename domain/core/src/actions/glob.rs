//! Branch patterns of action files, with Go's `path.Match` semantics (as
//! lakeFS matches them): `*` any run of characters but `/`, `?` one
//! character but `/`, `[...]` a class (`[^...]` negated, `a-z` ranges),
//! `\` escapes; the whole name must match.

/// A malformed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern;

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // A malformed pattern is an error even where matching stops early.
    check(&p)?;
    Ok(match_at(&p, &n))
}

fn check(p: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => i = class_end(p, i)?,
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index just past the class starting at `start` (`[`).
fn class_end(p: &[char], start: usize) -> Result<usize, BadPattern> {
    let mut i = start + 1;
    if p.get(i) == Some(&'^') {
        i += 1;
    }
    let mut first = true;
    loop {
        match p.get(i) {
            None => return Err(BadPattern),
            Some(']') if !first => return Ok(i + 1),
            Some(_) => {
                let (_, next) = class_char(p, i)?;
                i = next;
                if p.get(i) == Some(&'-') && p.get(i + 1) != Some(&']') {
                    let (_, after) = class_char(p, i + 1)?;
                    i = after;
                } else if p.get(i) == Some(&'-') {
                    return Err(BadPattern);
                }
            }
        }
        first = false;
    }
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), BadPattern> {
    match p.get(i) {
        Some('\\') => p.get(i + 1).map(|c| (*c, i + 2)).ok_or(BadPattern),
        Some('-') | Some(']') | None => Err(BadPattern),
        Some(c) => Ok((*c, i + 1)),
    }
}

/// Whether class `p[start..end]` (brackets included) holds `c`.
fn class_holds(p: &[char], start: usize, end: usize, c: char) -> bool {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut found = false;
    while i < end - 1 {
        let Ok((lo, next)) = class_char(p, i) else {
            break;
        };
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            if let Ok((h, after)) = class_char(p, i + 1) {
                hi = h;
                i = after;
            }
        }
        if lo <= c && c <= hi {
            found = true;
        }
    }
    found != negated
}

/// One element of a checked pattern.
enum Tok {
    Star,
    Any,
    /// A class: its bounds in the pattern (brackets included).
    Class(usize, usize),
    Lit(char),
}

fn tokens(p: &[char]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '*' => {
                out.push(Tok::Star);
                i += 1;
            }
            '?' => {
                out.push(Tok::Any);
                i += 1;
            }
            '[' => {
                let end = class_end(p, i).unwrap_or(p.len());
                out.push(Tok::Class(i, end));
                i = end;
            }
            '\\' if i + 1 < p.len() => {
                out.push(Tok::Lit(p[i + 1]));
                i += 2;
            }
            c => {
                out.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    out
}

/// Whether checked pattern `p` matches all of `n`: dynamic programming over
/// (pattern element, name position), so time is their product whatever
/// the stars (a backtracking matcher is exponential in them).
fn match_at(p: &[char], n: &[char]) -> bool {
    let toks = tokens(p);
    // row[j]: whether toks[i..] matches n[j..], for the current i.
    let mut next = vec![false; n.len() + 1];
    next[n.len()] = true;
    for tok in toks.iter().rev() {
        let mut row = vec![false; n.len() + 1];
        for j in (0..=n.len()).rev() {
            row[j] = match tok {
                // Zero characters, or one (not '/') and the star again.
                Tok::Star => next[j] || (j < n.len() && n[j] != '/' && row[j + 1]),
                Tok::Any => j < n.len() && n[j] != '/' && next[j + 1],
                Tok::Class(start, end) => {
                    j < n.len() && n[j] != '/' && class_holds(p, *start, *end, n[j]) && next[j + 1]
                }
                Tok::Lit(c) => j < n.len() && n[j] == *c && next[j + 1],
            };
        }
        next = row;
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_path_match() {
        for (pattern, name, want) in [
            ("main", "main", true),
            ("main", "mainline", false),
            ("feature-*", "feature-x", true),
            ("feature-*", "feature-", true),
            ("feature-*", "feature/x", false),
            ("*", "a/b", false),
            ("*/*", "a/b", true),
            ("rel?", "rel1", true),
            ("rel?", "rel", false),
            ("rel?", "rel/", false),
            ("v[0-9]", "v7", true),
            ("v[0-9]", "vx", false),
            ("v[^0-9]", "vx", true),
            ("v[^0-9]", "v7", false),
            ("[ab]*", "beta", true),
            ("\\*", "*", true),
            ("\\*", "x", false),
            ("*x", "yyx", true),
        ] {
            assert_eq!(matches(pattern, name), Ok(want), "{pattern} ~ {name}");
        }
    }

    #[test]
    fn many_stars_take_linear_time() {
        let pattern = "*a".repeat(30) + "*b";
        // A backtracking matcher would not finish this.
        let name = "a".repeat(400);
        assert_eq!(matches(&pattern, &name), Ok(false));
        assert_eq!(matches(&pattern, &(name + "b")), Ok(true));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        for bad in ["\\", "[", "[a", "[]", "a[-]", "x[a-]"] {
            assert_eq!(matches(bad, "a"), Err(BadPattern), "{bad}");
        }
    }
}
