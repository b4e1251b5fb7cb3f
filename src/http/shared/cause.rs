//! The whole chain of an error's causes, for the log line of a server
//! error (clients get a plain message; operators need the why).

use std::error::Error;

/// `e` and each of its sources, joined by `: `. A source whose text the
/// chain already holds (messages that repeat their cause) is left out.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::chain;
    use tarn_ports::{ErrorKind, PortError};

    #[test]
    fn every_cause_is_named_once() {
        let io = std::io::Error::other("disk on fire");
        let e = PortError::new(ErrorKind::Internal, "writing range").with_source(io);
        assert_eq!(chain(&e), "internal error: writing range: disk on fire");
        let again = std::io::Error::other("writing range");
        let e = PortError::new(ErrorKind::Internal, "writing range").with_source(again);
        assert_eq!(chain(&e), "internal error: writing range");
    }
}
