//! A hook's `if`: lakeFS evaluates it as an expression over `success()`
//! (no earlier hook of the action failed) and `failure()`. Supported here:
//! `true`, `false`, those two calls, `!`, `&&`, `||`, `and`, `or`, `not`
//! and parentheses.

/// Evaluates `expr`, given whether the action has failed so far.
pub fn evaluate(expr: &str, failed: bool) -> Result<bool, String> {
    let tokens = tokenize(expr)?;
    let mut p = Parser {
        tokens: &tokens,
        at: 0,
        failed,
    };
    let value = p.or()?;
    if p.at != tokens.len() {
        return Err(format!(
            "hook 'if' expression {expr:?}: unexpected {:?}",
            tokens[p.at]
        ));
    }
    Ok(value)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Not,
    And,
    Or,
    Open,
    Close,
}

fn tokenize(expr: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '(' => {
                // A call's empty argument list belongs to its word.
                if chars.get(i + 1) == Some(&')') && matches!(out.last(), Some(Token::Word(_))) {
                    i += 2;
                } else {
                    out.push(Token::Open);
                    i += 1;
                }
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '!' => {
                out.push(Token::Not);
                i += 1;
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push(Token::And);
                i += 2;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                out.push(Token::Or);
                i += 2;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    _ => Token::Word(word),
                });
            }
            other => {
                return Err(format!(
                    "hook 'if' expression {expr:?}: unexpected {other:?}"
                ))
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    failed: bool,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            let rhs = self.and()?;
            v = v || rhs;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            let rhs = self.unary()?;
            v = v && rhs;
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<bool, String> {
        match self.next() {
            Some(Token::Not) => Ok(!self.unary()?),
            Some(Token::Open) => {
                let v = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(v),
                    _ => Err("hook 'if' expression: missing ')'".into()),
                }
            }
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                "success" => Ok(!self.failed),
                "failure" => Ok(self.failed),
                other => Err(format!(
                    "hook 'if' expression: unknown name {other:?} (success(), failure(), true, false)"
                )),
            },
            other => Err(format!("hook 'if' expression: unexpected {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::evaluate;

    #[test]
    fn conditions_follow_the_action_so_far() {
        for (expr, failed, want) in [
            ("success()", false, true),
            ("success()", true, false),
            ("failure()", true, true),
            ("!success()", true, true),
            ("true", true, true),
            ("false", false, false),
            ("success() || failure()", true, true),
            ("not failure() and true", false, true),
            ("(failure() && true) || false", true, true),
        ] {
            assert_eq!(
                evaluate(expr, failed),
                Ok(want),
                "{expr} (failed: {failed})"
            );
        }
        for bad in ["always()", "success() &&", "(true", "1 + 1", "x == y"] {
            assert!(evaluate(bad, false).is_err(), "{bad}");
        }
    }
}
