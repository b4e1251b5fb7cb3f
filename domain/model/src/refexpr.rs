//! Ref expressions: a base ref followed by modifiers, as lakeFS parses them
//! (`pkg/graveler/ref/parse_ref.go`).
//!
//! The base is everything before the first of the characters `~ ^ @ $`. Each
//! modifier is one of those characters followed by a (possibly empty) run of
//! characters that are not modifier characters:
//!
//! - `~N` is the N-th first-parent ancestor; `~` alone means `~1`.
//! - `^N` is the N-th parent (1-based); `^` alone means `^1` and `^0` is the
//!   commit itself.
//! - `@` (committed-only view) and `$` (staging-only view) are valid only as
//!   the sole modifier, with nothing after them.
//!
//! `N` is a non-negative decimal integer that fits in a `u32`; leading zeros
//! are accepted (`~01` is `~1`), signs are not. The base itself is not
//! validated here: it may be a commit id, a branch, a tag or a commit-id prefix.

use std::fmt;

use crate::InvalidValue;

const KIND: &str = "ref";

/// One step applied to a resolved commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefModifier {
    /// `~N`: the N-th first-parent ancestor.
    Ancestor(u32),
    /// `^N`: the N-th parent (1-based); `^0` is the commit itself.
    Parent(u32),
}

/// How a branch is viewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewModifier {
    /// `@`: only the committed state of the branch, ignoring staged changes.
    Committed,
    /// `$`: only the staged changes of the branch.
    Staging,
}

/// A parsed ref expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefExpr {
    /// The base ref: a commit id, a branch, a tag or a commit-id prefix (not validated here).
    pub base: String,
    /// Commit modifiers, in order.
    pub modifiers: Vec<RefModifier>,
    /// `@` or `$`, when present (then `modifiers` is empty).
    pub view: Option<ViewModifier>,
}

fn is_modifier_char(c: char) -> bool {
    matches!(c, '~' | '^' | '@' | '$')
}

/// Parses the count after `~` or `^`: empty means 1, otherwise ASCII digits
/// that fit in a `u32`.
fn parse_count(expr: &str, digits: &str) -> Result<u32, InvalidValue> {
    if digits.is_empty() {
        return Ok(1);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidValue::new(
            KIND,
            expr,
            "`~` and `^` may only be followed by a non-negative decimal number",
        ));
    }
    digits
        .parse::<u32>()
        .map_err(|_| InvalidValue::new(KIND, expr, "the number after `~` or `^` is too large"))
}

impl RefExpr {
    /// Parses `expr`; the error names what is wrong.
    pub fn parse(expr: &str) -> Result<Self, InvalidValue> {
        if expr.is_empty() {
            return Err(InvalidValue::new(KIND, expr, "must not be empty"));
        }
        let split = expr.find(is_modifier_char).unwrap_or(expr.len());
        let (base, mut rest) = expr.split_at(split);
        if base.is_empty() {
            return Err(InvalidValue::new(
                KIND,
                expr,
                "the base ref before the modifiers must not be empty",
            ));
        }

        let mut modifiers = Vec::new();
        let mut view = None;
        while let Some(op) = rest.chars().next() {
            // `op` is one of the ASCII modifier characters, so 1 byte long.
            let after = &rest[op.len_utf8()..];
            let end = after.find(is_modifier_char).unwrap_or(after.len());
            let (arg, next) = after.split_at(end);
            rest = next;
            match op {
                '~' => modifiers.push(RefModifier::Ancestor(parse_count(expr, arg)?)),
                '^' => modifiers.push(RefModifier::Parent(parse_count(expr, arg)?)),
                _ => {
                    if view.is_some() || !modifiers.is_empty() || !rest.is_empty() {
                        return Err(InvalidValue::new(
                            KIND,
                            expr,
                            "`@` and `$` must be the only modifier",
                        ));
                    }
                    if !arg.is_empty() {
                        return Err(InvalidValue::new(
                            KIND,
                            expr,
                            "nothing may follow `@` or `$`",
                        ));
                    }
                    view = Some(if op == '@' {
                        ViewModifier::Committed
                    } else {
                        ViewModifier::Staging
                    });
                }
            }
        }

        Ok(Self {
            base: base.to_owned(),
            modifiers,
            view,
        })
    }
}

impl fmt::Display for RefModifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ancestor(n) => write!(f, "~{n}"),
            Self::Parent(n) => write!(f, "^{n}"),
        }
    }
}

impl fmt::Display for ViewModifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Committed => "@",
            Self::Staging => "$",
        })
    }
}

/// Renders the canonical form: the base, then `~N`/`^N` for each modifier
/// (always with the number), then `@` or `$`.
impl fmt::Display for RefExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        for m in &self.modifiers {
            write!(f, "{m}")?;
        }
        if let Some(v) = self.view {
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use RefModifier::{Ancestor, Parent};

    fn ok(expr: &str) -> RefExpr {
        RefExpr::parse(expr).unwrap()
    }

    fn err(expr: &str) -> InvalidValue {
        RefExpr::parse(expr).unwrap_err()
    }

    fn expr(base: &str, modifiers: Vec<RefModifier>, view: Option<ViewModifier>) -> RefExpr {
        RefExpr {
            base: base.to_owned(),
            modifiers,
            view,
        }
    }

    #[test]
    fn a_bare_base_has_no_modifiers() {
        assert_eq!(ok("main"), expr("main", vec![], None));
        assert_eq!(ok("a1b2c3"), expr("a1b2c3", vec![], None));
        assert_eq!(ok("feature/x-1.2"), expr("feature/x-1.2", vec![], None));
    }

    #[test]
    fn tilde_takes_a_count_defaulting_to_one() {
        assert_eq!(ok("main~"), expr("main", vec![Ancestor(1)], None));
        assert_eq!(ok("main~1"), expr("main", vec![Ancestor(1)], None));
        assert_eq!(ok("main~5"), expr("main", vec![Ancestor(5)], None));
        assert_eq!(ok("main~0"), expr("main", vec![Ancestor(0)], None));
        assert_eq!(ok("main~01"), expr("main", vec![Ancestor(1)], None));
    }

    #[test]
    fn caret_takes_a_parent_number_defaulting_to_one() {
        assert_eq!(ok("main^"), expr("main", vec![Parent(1)], None));
        assert_eq!(ok("main^1"), expr("main", vec![Parent(1)], None));
        assert_eq!(ok("main^2"), expr("main", vec![Parent(2)], None));
    }

    #[test]
    fn caret_zero_is_the_commit_itself() {
        assert_eq!(ok("abc^0"), expr("abc", vec![Parent(0)], None));
    }

    #[test]
    fn modifiers_chain_in_order() {
        assert_eq!(
            ok("main~2^2"),
            expr("main", vec![Ancestor(2), Parent(2)], None)
        );
        assert_eq!(
            ok("abc^^~3"),
            expr("abc", vec![Parent(1), Parent(1), Ancestor(3)], None)
        );
        assert_eq!(
            ok("main~~"),
            expr("main", vec![Ancestor(1), Ancestor(1)], None)
        );
        assert_eq!(
            ok("x^0~0^10"),
            expr("x", vec![Parent(0), Ancestor(0), Parent(10)], None)
        );
    }

    #[test]
    fn counts_up_to_u32_max_are_accepted() {
        assert_eq!(
            ok("main~4294967295"),
            expr("main", vec![Ancestor(u32::MAX)], None)
        );
    }

    #[test]
    fn counts_overflowing_u32_are_rejected() {
        assert_eq!(
            err("main~4294967296").reason,
            "the number after `~` or `^` is too large"
        );
        assert!(RefExpr::parse("main^99999999999999999999999").is_err());
    }

    #[test]
    fn non_numeric_counts_are_rejected() {
        for bad in [
            "main~x", "main^a", "main~1a", "main~-1", "main~+1", "main^ 1", "main~1.0",
        ] {
            assert!(RefExpr::parse(bad).is_err(), "{bad} should be invalid");
        }
        assert!(
            RefExpr::parse("main~٣").is_err(),
            "non-ASCII digits are not numbers"
        );
    }

    #[test]
    fn at_is_the_committed_view() {
        assert_eq!(
            ok("main@"),
            expr("main", vec![], Some(ViewModifier::Committed))
        );
    }

    #[test]
    fn dollar_is_the_staging_view() {
        assert_eq!(
            ok("main$"),
            expr("main", vec![], Some(ViewModifier::Staging))
        );
    }

    #[test]
    fn views_must_be_the_sole_modifier_with_nothing_after() {
        for bad in [
            "main@~1", "main~1@", "main@x", "main@@", "main$@", "main@$", "main$$", "main$1",
            "main^@", "main@^",
        ] {
            assert!(RefExpr::parse(bad).is_err(), "{bad} should be invalid");
        }
        assert_eq!(
            err("main~1@").reason,
            "`@` and `$` must be the only modifier"
        );
        assert_eq!(err("main@x").reason, "nothing may follow `@` or `$`");
    }

    #[test]
    fn the_expression_must_not_be_empty() {
        let e = err("");
        assert_eq!(e.kind, "ref");
        assert_eq!(e.reason, "must not be empty");
    }

    #[test]
    fn the_base_must_not_be_empty() {
        for bad in ["~1", "~", "^", "^2", "@", "$", "~1^2"] {
            let e = err(bad);
            assert_eq!(e.kind, "ref");
            assert_eq!(e.value, bad);
            assert_eq!(
                e.reason,
                "the base ref before the modifiers must not be empty"
            );
        }
    }

    #[test]
    fn unicode_in_the_base_is_passed_through() {
        assert_eq!(ok("ブランチ"), expr("ブランチ", vec![], None));
        assert_eq!(ok("zweig-ü~2"), expr("zweig-ü", vec![Ancestor(2)], None));
        assert_eq!(ok("🌊@"), expr("🌊", vec![], Some(ViewModifier::Committed)));
    }

    #[test]
    fn display_renders_the_canonical_form() {
        assert_eq!(ok("main").to_string(), "main");
        assert_eq!(ok("main~").to_string(), "main~1");
        assert_eq!(ok("abc^^~3").to_string(), "abc^1^1~3");
        assert_eq!(ok("main~007").to_string(), "main~7");
        assert_eq!(ok("main^0").to_string(), "main^0");
        assert_eq!(ok("main@").to_string(), "main@");
        assert_eq!(ok("main$").to_string(), "main$");
    }

    fn modifier() -> impl Strategy<Value = RefModifier> {
        prop_oneof![
            any::<u32>().prop_map(Ancestor),
            any::<u32>().prop_map(Parent)
        ]
    }

    fn ref_expr() -> impl Strategy<Value = RefExpr> {
        let base = "[a-z0-9_-]{1,20}";
        prop_oneof![
            (base, proptest::collection::vec(modifier(), 0..8))
                .prop_map(|(b, m)| expr(&b, m, None)),
            (
                base,
                prop_oneof![Just(ViewModifier::Committed), Just(ViewModifier::Staging)]
            )
                .prop_map(|(b, v)| expr(&b, vec![], Some(v))),
        ]
    }

    proptest! {
        #[test]
        fn parse_inverts_display(x in ref_expr()) {
            prop_assert_eq!(RefExpr::parse(&x.to_string()), Ok(x));
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = RefExpr::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_modifier_heavy_input(s in "[a-z0-9~^@$\u{e9}+-]{0,24}") {
            if let Ok(x) = RefExpr::parse(&s) {
                // Whatever parses renders to a canonical form that parses the same.
                prop_assert_eq!(RefExpr::parse(&x.to_string()), Ok(x));
            }
        }
    }
}
