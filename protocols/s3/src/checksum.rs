//! S3 "additional checksums": the `x-amz-checksum-*` headers and trailers.
//!
//! S3 sends each checksum as the base64 of the big-endian digest: 4 bytes for
//! CRC-32 and CRC-32C, 8 for CRC-64/NVME, 20 for SHA-1 and 32 for SHA-256.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

/// The CRC-64/NVME parameters (poly 0xad93d23594c93659, reflected, init and
/// xorout all ones), slice-by-16 for speed.
static CRC64_NVME: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

/// One of the checksum algorithms that S3 accepts in `x-amz-checksum-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in S3's documentation order.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The algorithm whose header (or trailer) is `name`, e.g.
    /// `x-amz-checksum-crc32`; ASCII case-insensitive, surrounding
    /// whitespace ignored.
    pub fn from_header_name(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|alg| alg.header_name().eq_ignore_ascii_case(name))
    }

    /// The algorithm named as in `x-amz-checksum-algorithm` /
    /// `x-amz-sdk-checksum-algorithm` (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`,
    /// `SHA256`); ASCII case-insensitive.
    pub fn from_algorithm_name(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|alg| alg.algorithm_name().eq_ignore_ascii_case(name))
    }

    /// The header (and trailer) name, lower case: `x-amz-checksum-crc32`, ...
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The name S3 uses in `x-amz-checksum-algorithm` and in XML
    /// (`ChecksumAlgorithm`): `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn algorithm_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Length in bytes of the raw (not base64) digest.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// Decodes a base64 value as sent in a header or trailer; `None` when it
    /// is not valid base64 or not of this algorithm's digest length (S3
    /// answers such a header with `InvalidRequest`).
    pub fn parse_value(self, base64_value: &str) -> Option<Vec<u8>> {
        let raw = BASE64.decode(base64_value.trim()).ok()?;
        (raw.len() == self.digest_len()).then_some(raw)
    }

    /// The checksum of `data` in one go, base64 as S3 sends it.
    pub fn checksum(self, data: &[u8]) -> String {
        let mut c = Checksummer::new(self);
        c.update(data);
        c.finish()
    }
}

impl std::fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.algorithm_name())
    }
}

enum State {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc::Digest<'static, u64, crc::Table<16>>),
    Sha1(Sha1),
    Sha256(Sha256),
}

/// An incremental checksum of one of the [`ChecksumAlgorithm`]s.
pub struct Checksummer {
    algorithm: ChecksumAlgorithm,
    state: State,
}

impl std::fmt::Debug for Checksummer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checksummer")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Checksummer {
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => State::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => State::Crc64Nvme(CRC64_NVME.digest()),
            ChecksumAlgorithm::Sha1 => State::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => State::Sha256(Sha256::new()),
        };
        Checksummer { algorithm, state }
    }

    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Crc32(h) => h.update(data),
            State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            State::Crc64Nvme(d) => d.update(data),
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
        }
    }

    /// The raw big-endian digest.
    pub fn finish_bytes(self) -> Vec<u8> {
        match self.state {
            State::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            State::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            State::Crc64Nvme(d) => d.finalize().to_be_bytes().to_vec(),
            State::Sha1(h) => h.finalize().to_vec(),
            State::Sha256(h) => h.finalize().to_vec(),
        }
    }

    /// The digest as S3 sends it: base64 of the big-endian bytes.
    pub fn finish(self) -> String {
        BASE64.encode(self.finish_bytes())
    }

    /// Whether the data seen so far has the checksum `expected_base64` (as
    /// sent in a header or trailer). Invalid base64 never matches.
    pub fn matches(self, expected_base64: &str) -> bool {
        match BASE64.decode(expected_base64.trim()) {
            Ok(expected) => self.finish_bytes() == expected,
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK: &[u8] = b"123456789";

    fn b64(bytes: &[u8]) -> String {
        BASE64.encode(bytes)
    }

    #[test]
    fn catalog_check_values() {
        let cases: [(ChecksumAlgorithm, Vec<u8>); 3] = [
            (
                ChecksumAlgorithm::Crc32,
                0xcbf4_3926u32.to_be_bytes().to_vec(),
            ),
            (
                ChecksumAlgorithm::Crc32c,
                0xe306_9283u32.to_be_bytes().to_vec(),
            ),
            (
                ChecksumAlgorithm::Crc64Nvme,
                0xae8b_1486_0a79_9888u64.to_be_bytes().to_vec(),
            ),
        ];
        for (alg, raw) in cases {
            let mut c = Checksummer::new(alg);
            c.update(CHECK);
            assert_eq!(c.finish_bytes(), raw, "{alg}");
            assert_eq!(alg.checksum(CHECK), b64(&raw), "{alg}");
        }
    }

    #[test]
    fn known_base64_vectors() {
        // CRC-32("123456789") = cbf43926
        assert_eq!(ChecksumAlgorithm::Crc32.checksum(CHECK), "y/Q5Jg==");
        // CRC-32C("123456789") = e3069283
        assert_eq!(ChecksumAlgorithm::Crc32c.checksum(CHECK), "4waSgw==");
        // CRC-64/NVME("123456789") = ae8b14860a799888
        assert_eq!(ChecksumAlgorithm::Crc64Nvme.checksum(CHECK), "rosUhgp5mIg=");
        // CRC-32("hello world") = 0d4a1185
        assert_eq!(
            ChecksumAlgorithm::Crc32.checksum(b"hello world"),
            "DUoRhQ=="
        );
        // CRC-32C("hello world") = c99465aa
        assert_eq!(
            ChecksumAlgorithm::Crc32c.checksum(b"hello world"),
            "yZRlqg=="
        );
        // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d (FIPS 180)
        assert_eq!(
            ChecksumAlgorithm::Sha1.checksum(b"abc"),
            b64(&hex::decode("a9993e364706816aba3e25717850c26c9cd0d89d").unwrap())
        );
        // SHA-256("abc") (FIPS 180)
        assert_eq!(
            ChecksumAlgorithm::Sha256.checksum(b"abc"),
            b64(
                &hex::decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                    .unwrap()
            )
        );
        // Empty input: every CRC of "" is 0, the SHAs are the well-known ones.
        assert_eq!(ChecksumAlgorithm::Crc32.checksum(b""), "AAAAAA==");
        assert_eq!(ChecksumAlgorithm::Crc32c.checksum(b""), "AAAAAA==");
        assert_eq!(ChecksumAlgorithm::Crc64Nvme.checksum(b""), "AAAAAAAAAAA=");
        assert_eq!(
            ChecksumAlgorithm::Sha1.checksum(b""),
            "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
        );
        assert_eq!(
            ChecksumAlgorithm::Sha256.checksum(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for alg in ChecksumAlgorithm::ALL {
            let mut c = Checksummer::new(alg);
            for piece in data.chunks(37) {
                c.update(piece);
            }
            c.update(&[]);
            assert_eq!(c.finish(), alg.checksum(&data), "{alg}");
        }
    }

    #[test]
    fn names_round_trip() {
        for alg in ChecksumAlgorithm::ALL {
            assert_eq!(
                ChecksumAlgorithm::from_header_name(alg.header_name()),
                Some(alg)
            );
            assert_eq!(
                ChecksumAlgorithm::from_header_name(&alg.header_name().to_ascii_uppercase()),
                Some(alg)
            );
            assert_eq!(
                ChecksumAlgorithm::from_algorithm_name(alg.algorithm_name()),
                Some(alg)
            );
            assert_eq!(
                alg.parse_value(&alg.checksum(b"x")).map(|v| v.len()),
                Some(alg.digest_len())
            );
        }
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-crc64nvme"),
            Some(ChecksumAlgorithm::Crc64Nvme)
        );
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-md5"),
            None
        );
        assert_eq!(
            ChecksumAlgorithm::from_header_name("x-amz-checksum-crc"),
            None
        );
        assert_eq!(ChecksumAlgorithm::Crc32.parse_value("AAAAAAAAAAA="), None);
        assert_eq!(ChecksumAlgorithm::Crc32.parse_value("not base64!"), None);
    }

    #[test]
    fn matches_compares_decoded_bytes() {
        let mut c = Checksummer::new(ChecksumAlgorithm::Crc32);
        c.update(CHECK);
        assert!(c.matches(" y/Q5Jg== "));
        let mut c = Checksummer::new(ChecksumAlgorithm::Crc32);
        c.update(CHECK);
        assert!(!c.matches("y/Q5Jw=="));
        let c = Checksummer::new(ChecksumAlgorithm::Crc32);
        assert!(!c.matches("%%%"));
    }
}
