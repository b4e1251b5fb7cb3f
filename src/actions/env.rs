//! `{{ ENV.NAME }}` in hook properties (lakeFS's secure strings): replaced
//! by the environment variable, only when `actions.env.enabled` and only
//! for names starting with `actions.env.prefix` (anything else reads as
//! ""); a value that used one is a secret and is logged as `*******`.

use crate::settings::ActionsEnv;

/// A property value with its variables replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub value: String,
    /// Whether it came from the environment (and must not be logged).
    pub secret: bool,
}

impl Resolved {
    /// What logs show of it.
    pub fn shown(&self) -> &str {
        if self.secret {
            "*******"
        } else {
            &self.value
        }
    }
}

/// Replaces every `{{ ENV.NAME }}` of `text` (one optional space inside
/// each brace pair); a variable that passes the checks but is not set is
/// an error.
pub fn resolve(text: &str, env: &ActionsEnv) -> Result<Resolved, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut secret = false;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let inner_start = usize::from(after.starts_with(' '));
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = after[inner_start..end].trim_end_matches(' ');
        match inner.strip_prefix("ENV.") {
            Some(name) if !name.is_empty() => {
                secret = true;
                out.push_str(&lookup(name, env)?);
            }
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(Resolved { value: out, secret })
}

fn lookup(name: &str, env: &ActionsEnv) -> Result<String, String> {
    // Tarn's own settings (secrets among them) are never given out, even
    // with an empty prefix.
    if !env.enabled || !name.starts_with(&env.prefix) || name.starts_with("TARN_") {
        return Ok(String::new());
    }
    std::env::var(name).map_err(|_| format!("{name} not found: missing env var"))
}

pub use tarn_model::go_duration;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(prefix: &str) -> ActionsEnv {
        ActionsEnv {
            enabled: true,
            prefix: prefix.into(),
        }
    }

    #[test]
    fn variables_are_replaced_only_under_the_prefix() {
        // PATH is set wherever tests run; "PAT" lets it through.
        let path = std::env::var("PATH").unwrap();
        let got = resolve("Bearer {{ ENV.PATH }}", &env("PAT")).unwrap();
        assert_eq!(got.value, format!("Bearer {path}"));
        assert!(got.secret);
        assert_eq!(got.shown(), "*******");
        let compact = resolve("{{ENV.PATH}}", &env("PAT")).unwrap();
        assert_eq!(compact.value, path);
        let own = resolve("{{ ENV.TARN_AUTH__ENCRYPT__SECRET_KEY }}", &env("")).unwrap();
        assert_eq!(own.value, "", "Tarn's settings are never read");
        let blocked = resolve("x{{ ENV.PATH }}y", &env("LAKEFSACTION_")).unwrap();
        assert_eq!(blocked.value, "xy", "outside the prefix reads as empty");
        let off = ActionsEnv {
            enabled: false,
            prefix: String::new(),
        };
        assert_eq!(resolve("{{ ENV.PATH }}", &off).unwrap().value, "");
        assert_eq!(
            resolve("{{ ENV.LAKEFSACTION_TARN_UNSET }}", &env("LAKEFSACTION_")).unwrap_err(),
            "LAKEFSACTION_TARN_UNSET not found: missing env var"
        );
        let plain = resolve("no {{ vars }} here", &env("")).unwrap();
        assert_eq!(plain.value, "no {{ vars }} here");
        assert!(!plain.secret);
    }
}
