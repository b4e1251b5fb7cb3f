//! `lakefs://<repository>[/<ref>[/<path>]]` URIs, with lakectl's checks
//! and messages.

use crate::error::{CliError, CliResult};
use std::fmt;

/// A parsed lakeFS URI. `path` is `None` for `lakefs://repo/main` and
/// `Some("")` for `lakefs://repo/main/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeFsUri {
    pub repository: String,
    pub reference: Option<String>,
    pub path: Option<String>,
}

const SCHEME: &str = "lakefs://";

fn bad(what: &str, why: impl fmt::Display) -> CliError {
    CliError::Usage(format!("{what} {why}"))
}

fn valid_repository(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

fn valid_branch(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphanumeric() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl LakeFsUri {
    /// Parses `text`, first prefixing `base` (`--base-uri`) when `text`
    /// is not a lakefs URI itself.
    pub fn parse(text: &str, base: Option<&str>) -> Result<Self, String> {
        let full;
        let text = match base {
            Some(base) if !text.starts_with(SCHEME) => {
                full = format!("{base}{text}");
                full.as_str()
            }
            _ => text,
        };
        let rest = text.strip_prefix(SCHEME).ok_or_else(|| {
            "malformed lakefs URI (expected lakefs://<repository>/<ref>/<path>)".to_owned()
        })?;
        let (repository, tail) = match rest.split_once('/') {
            Some((r, t)) => (r, Some(t)),
            None => (rest, None),
        };
        if repository.is_empty() {
            return Err("missing repository part: not a valid repo URI".into());
        }
        if repository.contains('@') {
            return Err("malformed lakefs URI (user information is not allowed)".into());
        }
        let (reference, path) = match tail {
            None => (None, None),
            Some(t) => match t.split_once('/') {
                Some((r, p)) => (Some(r.to_owned()), Some(p.to_owned())),
                None => (Some(t.to_owned()).filter(|r| !r.is_empty()), None),
            },
        };
        Ok(LakeFsUri {
            repository: repository.to_owned(),
            reference,
            path,
        })
    }

    fn check_repository(&self, what: &str) -> CliResult<()> {
        if !valid_repository(&self.repository) {
            return Err(bad(
                what,
                format!(
                    "contains invalid repository name (repo={}): lower-case letters, digits and '-', 3 to 63 characters",
                    self.repository
                ),
            ));
        }
        Ok(())
    }

    /// A repository URI: no ref, no path.
    pub fn repository_uri(text: &str, base: Option<&str>, what: &str) -> CliResult<Self> {
        let uri = Self::parse(text, base).map_err(|e| bad(what, e))?;
        uri.check_repository(what)?;
        if let Some(r) = &uri.reference {
            return Err(bad(
                what,
                format!("repository URI includes a ref part (ref={r}): not a valid repo URI"),
            ));
        }
        Ok(uri)
    }

    /// A ref URI: repository and ref, no path (a trailing '/' is allowed).
    pub fn ref_uri(text: &str, base: Option<&str>, what: &str) -> CliResult<Self> {
        let uri = Self::parse(text, base).map_err(|e| bad(what, e))?;
        uri.check_repository(what)?;
        match &uri.reference {
            None => return Err(bad(what, "missing reference part: not a valid ref URI")),
            Some(r) if r.chars().any(char::is_whitespace) => {
                return Err(bad(
                    what,
                    "contains invalid reference name: not a valid ref URI",
                ))
            }
            Some(_) => {}
        }
        if let Some(p) = uri.path.as_deref().filter(|p| !p.is_empty()) {
            return Err(bad(
                what,
                format!("ref URI includes a path part (path={p}): not a valid ref URI"),
            ));
        }
        Ok(uri)
    }

    /// A branch URI: a ref URI whose ref is a valid branch name.
    pub fn branch_uri(text: &str, base: Option<&str>, what: &str) -> CliResult<Self> {
        let uri = Self::ref_uri(text, base, what)?;
        if !valid_branch(uri.reference()) {
            return Err(bad(
                what,
                format!(
                    "contains invalid branch name ({}): not a valid branch URI",
                    uri.reference()
                ),
            ));
        }
        Ok(uri)
    }

    /// A path URI: repository, ref and a path (possibly empty: `lakefs://r/b/`).
    pub fn path_uri(text: &str, base: Option<&str>, what: &str) -> CliResult<Self> {
        let uri = Self::parse(text, base).map_err(|e| bad(what, e))?;
        uri.check_repository(what)?;
        if uri.reference.is_none() {
            return Err(bad(what, "missing reference part: not a valid path URI"));
        }
        if uri.path.is_none() {
            return Err(bad(
                what,
                "missing path part: not a valid path URI (add '/' after the ref for its root)",
            ));
        }
        Ok(uri)
    }

    pub fn reference(&self) -> &str {
        self.reference.as_deref().unwrap_or_default()
    }

    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or_default()
    }

    /// Both URIs name the same repository, or a usage error.
    pub fn same_repository(&self, other: &LakeFsUri, message: &str) -> CliResult<()> {
        if self.repository != other.repository {
            return Err(CliError::Usage(message.to_owned()));
        }
        Ok(())
    }

    /// The same URI at another path.
    pub fn with_path(&self, path: impl Into<String>) -> Self {
        LakeFsUri {
            path: Some(path.into()),
            ..self.clone()
        }
    }
}

impl fmt::Display for LakeFsUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}", self.repository)?;
        if let Some(r) = &self.reference {
            write!(f, "/{r}")?;
            if let Some(p) = &self.path {
                write!(f, "/{p}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_shapes() {
        let u = LakeFsUri::parse("lakefs://repo/main/a/b.txt", None).unwrap();
        assert_eq!(
            (u.repository.as_str(), u.reference(), u.path.as_deref()),
            ("repo", "main", Some("a/b.txt"))
        );
        let u = LakeFsUri::parse("lakefs://repo/main", None).unwrap();
        assert_eq!(u.path, None);
        let u = LakeFsUri::parse("lakefs://repo/main/", None).unwrap();
        assert_eq!(u.path.as_deref(), Some(""));
        assert_eq!(u.to_string(), "lakefs://repo/main/");
        let u = LakeFsUri::parse("lakefs://repo", None).unwrap();
        assert_eq!(u.reference, None);
    }

    #[test]
    fn base_uri_prefixes_relative_arguments() {
        let u = LakeFsUri::path_uri("x/y", Some("lakefs://repo/main/"), "path URI").unwrap();
        assert_eq!(u.to_string(), "lakefs://repo/main/x/y");
        let u =
            LakeFsUri::path_uri("lakefs://other/dev/z", Some("lakefs://repo/main/"), "p").unwrap();
        assert_eq!(u.repository, "other");
    }

    #[test]
    fn refuses_what_lakectl_refuses() {
        let err = |r: CliResult<LakeFsUri>| r.unwrap_err().to_string();
        assert!(err(LakeFsUri::repository_uri(
            "lakefs://repo/main",
            None,
            "repository URI"
        ))
        .contains("includes a ref part (ref=main)"));
        assert!(err(LakeFsUri::repository_uri(
            "s3://repo",
            None,
            "repository URI"
        ))
        .contains("malformed"));
        assert!(err(LakeFsUri::repository_uri(
            "lakefs://Repo",
            None,
            "repository URI"
        ))
        .contains("invalid repository name"));
        assert!(err(LakeFsUri::ref_uri("lakefs://repo/main/x", None, "ref"))
            .contains("includes a path part"));
        assert!(
            err(LakeFsUri::branch_uri("lakefs://repo/ma~in", None, "branch"))
                .contains("invalid branch name")
        );
        assert!(err(LakeFsUri::path_uri("lakefs://repo/main", None, "path"))
            .contains("missing path part"));
        assert!(LakeFsUri::ref_uri("lakefs://repo/main/", None, "ref").is_ok());
        assert!(LakeFsUri::ref_uri("lakefs://repo/main~1", None, "ref").is_ok());
        assert!(matches!(
            LakeFsUri::path_uri("nope", None, "p"),
            Err(CliError::Usage(_))
        ));
    }
}
