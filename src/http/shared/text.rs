//! Text in URLs. Paths and keys are UTF-8 on both drivers: a percent escape
//! that decodes to bytes which are not UTF-8 is refused (400 on the API,
//! `InvalidArgument` on the gateway), never replaced or kept escaped, so two
//! distinct byte strings a client sends can never name the same object.

/// A URL component whose percent escapes do not decode to UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not valid UTF-8 once its percent escapes are decoded")]
pub struct NotUtf8 {
    /// What it was (`the key`, `query parameter "path"`).
    pub what: String,
}

/// Decodes every `%XX` escape of `raw`; `+` stays a plus (paths, and the
/// query strings of S3 clients).
pub fn percent_decode(raw: &str, what: &str) -> Result<String, NotUtf8> {
    String::from_utf8(urlencoding::decode_binary(raw.as_bytes()).into_owned()).map_err(|_| {
        NotUtf8 {
            what: what.to_owned(),
        }
    })
}

/// Checks that every name and value of a form-encoded query string
/// (`+` for a space) decodes to UTF-8; the error names the parameter.
pub fn check_form_query(raw: &str) -> Result<(), NotUtf8> {
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(&name.replace('+', " "), "a query parameter name")?;
        percent_decode(
            &value.replace('+', " "),
            &format!("query parameter {name:?}"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_decode_and_invalid_bytes_are_refused() {
        assert_eq!(percent_decode("a%20b+c%C3%A9", "k").unwrap(), "a b+cé");
        assert!(percent_decode("alias-%FF", "k").is_err());
        assert!(percent_decode("alias-%FE", "k").is_err());
        assert_eq!(percent_decode("alias-%25FF", "k").unwrap(), "alias-%FF");
        assert!(check_form_query("amount=1&path=a%FF").is_err());
        assert!(check_form_query("path=a+b&after=%C3%A9").is_ok());
    }

    proptest! {
        /// Any two distinct byte strings a client may send, escaped, are
        /// either refused or decoded to two distinct keys.
        #[test]
        fn distinct_bytes_never_alias(
            a in proptest::collection::vec(any::<u8>(), 0..12),
            b in proptest::collection::vec(any::<u8>(), 0..12),
        ) {
            prop_assume!(a != b);
            let escape = |v: &[u8]| v.iter().map(|x| format!("%{x:02X}")).collect::<String>();
            if let (Ok(x), Ok(y)) = (percent_decode(&escape(&a), "k"), percent_decode(&escape(&b), "k")) {
                prop_assert_ne!(x, y);
            }
        }

        /// Escaped or not, a valid key decodes to itself.
        #[test]
        fn text_round_trips(s in "\\PC{0,16}") {
            let escaped = urlencoding::encode(&s).into_owned();
            prop_assert_eq!(percent_decode(&escaped, "k").unwrap(), s);
        }
    }
}
