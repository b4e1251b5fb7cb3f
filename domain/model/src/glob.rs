//! Glob patterns of branch protection rules: `*` matches any run of
//! characters, `?` exactly one; everything else matches itself.

/// Whether `name` matches `pattern`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;
    use proptest::prelude::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(glob_match("main", "main"));
        assert!(!glob_match("main", "main2"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("*", ""));
        assert!(glob_match("release-*", "release-1.0"));
        assert!(!glob_match("release-*", "hotfix-1"));
        assert!(glob_match("v?", "v1"));
        assert!(!glob_match("v?", "v10"));
        assert!(glob_match("*-prod-*", "eu-prod-1"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
    }

    proptest! {
        #[test]
        fn a_name_matches_itself_and_star(name in "[a-z0-9_-]{0,12}") {
            prop_assert!(glob_match(&name, &name));
            prop_assert!(glob_match("*", &name));
            let with_star = format!("{}*", name.chars().take(2).collect::<String>());
            prop_assert!(glob_match(&with_star, &name));
        }
    }
}
