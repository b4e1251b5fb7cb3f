use std::fmt;

/// A point in time: microseconds since the Unix epoch (UTC).
///
/// Microseconds keep ordering stable for records created in quick succession
/// (multipart uploads, staged entries) while the wire formats that lakeFS uses
/// (epoch seconds) are derived with [`Timestamp::unix_seconds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From microseconds since the epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// From whole seconds since the epoch; saturates instead of overflowing.
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds.saturating_mul(1_000_000))
    }

    /// Microseconds since the epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded towards negative infinity.
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}µs", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_for_negative_times() {
        assert_eq!(Timestamp::from_unix_micros(-1).unix_seconds(), -1);
        assert_eq!(Timestamp::from_unix_micros(1_999_999).unix_seconds(), 1);
        assert_eq!(Timestamp::from_unix_seconds(42).unix_micros(), 42_000_000);
    }

    #[test]
    fn from_seconds_saturates() {
        assert_eq!(
            Timestamp::from_unix_seconds(i64::MAX).unix_micros(),
            i64::MAX
        );
    }
}

/// A Go duration (`1m30s`, `500ms`, `10s`, `1.5h`).
pub fn go_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("time: invalid duration {text:?}");
    let mut secs = 0f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    if rest == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        secs += n * scale;
        rest = &rest[unit_len..];
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[cfg(test)]
mod go_duration_tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        use std::time::Duration;
        assert_eq!(go_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(go_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(go_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(go_duration("10").is_err());
        assert!(go_duration("abc").is_err());
        assert!(go_duration("").is_err());
    }
}
