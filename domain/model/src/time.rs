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
