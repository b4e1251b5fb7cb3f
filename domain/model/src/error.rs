use thiserror::Error;

/// A value was rejected by a validating constructor.
///
/// `kind` names what was being built (for example "repository id"), so a driver
/// can report which field was wrong without knowing the constructor.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct InvalidValue {
    /// What was being validated, e.g. "branch name".
    pub kind: &'static str,
    /// The rejected input, truncated to a readable length.
    pub value: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl InvalidValue {
    pub(crate) fn new(kind: &'static str, value: &str, reason: &'static str) -> Self {
        const MAX: usize = 128;
        let value = if value.len() > MAX {
            let mut cut = MAX;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}…", &value[..cut])
        } else {
            value.to_owned()
        };
        Self {
            kind,
            value,
            reason,
        }
    }
}
