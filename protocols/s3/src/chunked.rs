//! Request bodies: `Content-Encoding: aws-chunked` decoding with chunk and
//! trailer signatures and checksum trailers, and pass-through verifiers of
//! `x-amz-content-sha256` / `x-amz-checksum-*` for plain bodies.
//!
//! Everything here is a [`Stream`] adapter over the body as it comes off the
//! network, in whatever pieces it comes: memory stays bounded by one
//! aws-chunk (at most [`MAX_CHUNK_SIZE`]) however large the body is. Errors
//! are `io::Error`s wrapping a [`ChunkError`]; get it back with
//! [`ChunkError::from_io`] to answer with its [`ChunkError::s3_code`].
//!
//! The wire formats (AWS "Signature Calculations for the Authorization
//! Header: Transferring Payload in Multiple Chunks" and "... Including
//! Trailing Headers"):
//!
//! ```text
//! signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD):
//!   <hex-size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n\r\n
//! unsigned with trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER):
//!   <hex-size>\r\n<data>\r\n ... 0\r\n<name>:<value>\r\n ... \r\n
//! signed with trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER):
//!   <hex-size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//!   <name>:<value>\r\n ... x-amz-trailer-signature:<sig>\r\n\r\n
//! ```

use crate::ErrorCode;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::{Buf as _, Bytes};
use futures::Stream;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

use crate::checksum::{ChecksumAlgorithm, Checksummer};

type HmacSha256 = Hmac<Sha256>;

/// The largest aws-chunk accepted; a larger declared size fails with
/// [`ChunkError::ChunkTooLarge`] before any of its data is read. SDKs send
/// 64 KiB to a few MiB.
pub const MAX_CHUNK_SIZE: u64 = 16 * 1024 * 1024;

/// The longest chunk header or trailer line, CRLF included.
const MAX_LINE: usize = 4096;

/// The most trailer bytes (all lines together) accepted.
const MAX_TRAILER: usize = 16 * 1024;

/// Hex SHA-256 of the empty string, part of every chunk's string to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The aws-chunked framing is broken (bad size, missing CRLF, missing
    /// chunk signature, bytes after the final chunk...).
    #[error("malformed aws-chunked body: {0}")]
    Malformed(String),
    /// The trailer section is broken or lacks the declared checksum.
    #[error("malformed trailer: {0}")]
    MalformedTrailer(String),
    /// A chunk or trailer signature does not match.
    #[error("the chunk signature does not match")]
    SignatureDoesNotMatch,
    /// The body's checksum differs from the one sent (trailer or header).
    #[error("the checksum of the body does not match the one sent")]
    BadDigest,
    /// The body ended early, or its decoded length differs from
    /// `x-amz-decoded-content-length`.
    #[error("the body is shorter or longer than declared")]
    IncompleteBody,
    /// A chunk declared more than [`MAX_CHUNK_SIZE`] bytes.
    #[error("a chunk is larger than {MAX_CHUNK_SIZE} bytes")]
    ChunkTooLarge,
    /// The SHA-256 of a plain body differs from `x-amz-content-sha256`.
    #[error("x-amz-content-sha256 does not match the body")]
    XAmzContentSha256Mismatch,
}

impl ChunkError {
    /// The S3 error code to answer with.
    pub fn s3_code(&self) -> ErrorCode {
        match self {
            ChunkError::Malformed(_) | ChunkError::ChunkTooLarge => ErrorCode::InvalidRequest,
            ChunkError::MalformedTrailer(_) => ErrorCode::MalformedTrailerError,
            ChunkError::SignatureDoesNotMatch => ErrorCode::SignatureDoesNotMatch,
            ChunkError::BadDigest => ErrorCode::BadDigest,
            ChunkError::IncompleteBody => ErrorCode::IncompleteBody,
            ChunkError::XAmzContentSha256Mismatch => ErrorCode::XAmzContentSha256Mismatch,
        }
    }

    /// The `ChunkError` inside an error yielded by one of this module's
    /// streams; `None` for an error of the input stream itself.
    pub fn from_io(err: &io::Error) -> Option<&ChunkError> {
        err.get_ref()?.downcast_ref::<ChunkError>()
    }
}

impl From<ChunkError> for io::Error {
    fn from(err: ChunkError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, err)
    }
}

/// What verifies chunk signatures: the SigV4 signing key and scope of the
/// request, and its signature (the "seed") that the first chunk chains from.
#[derive(Clone)]
pub struct ChunkSigning {
    pub signing_key: [u8; 32],
    /// `x-amz-date` of the request, e.g. `20130524T000000Z`.
    pub amz_date: String,
    /// The credential scope, e.g. `20130524/us-east-1/s3/aws4_request`.
    pub scope: String,
    /// The request's own signature, hex.
    pub seed_signature: String,
}

impl std::fmt::Debug for ChunkSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigning")
            .field("signing_key", &"<redacted>")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("seed_signature", &self.seed_signature)
            .finish()
    }
}

/// How to decode one aws-chunked body, from the request's headers.
#[derive(Debug, Clone, Default)]
pub struct ChunkedOptions {
    /// `Some` for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` (every
    /// chunk carries a verified `chunk-signature`), `None` for unsigned
    /// chunks (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    pub signing: Option<ChunkSigning>,
    /// The checksum named by `x-amz-trailer`: the trailer must carry it and
    /// it must match the decoded data.
    pub trailer: Option<ChecksumAlgorithm>,
    /// The trailer ends with `x-amz-trailer-signature`, which is verified
    /// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`); needs `signing`.
    pub trailer_signed: bool,
    /// `x-amz-decoded-content-length`, checked against the decoded data.
    pub decoded_length: Option<u64>,
}

/// What a body turned out to hold, once fully decoded and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeSummary {
    /// Bytes of decoded payload.
    pub decoded_length: u64,
    /// The declared trailer checksum and its (verified) base64 value.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// Every trailer line but the trailer signature, as sent (trimmed).
    pub trailers: Vec<(String, String)>,
}

/// Filled in once the stream from [`decode_with_summary`] has verified the
/// whole body (just before it ends with `None`).
#[derive(Debug, Clone, Default)]
pub struct SummaryHandle(Arc<OnceLock<DecodeSummary>>);

impl SummaryHandle {
    /// `None` until the body has been decoded and verified in full.
    pub fn get(&self) -> Option<&DecodeSummary> {
        self.0.get()
    }
}

/// Decodes an `aws-chunked` body into its payload bytes, verifying chunk
/// signatures, the trailer signature and checksum, and the decoded length as
/// `opts` asks. With signed chunks a chunk's bytes are yielded only once its
/// signature is verified; unsigned chunks stream straight through. Failures
/// are yielded as one `io::Error` wrapping a [`ChunkError`], after which the
/// stream ends.
pub fn decode<S>(
    input: S,
    opts: ChunkedOptions,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
    ChunkedDecoder::new(input, opts, None)
}

/// [`decode`], plus a handle that holds the trailers and checksum once the
/// stream has verified the whole body.
pub fn decode_with_summary<S>(
    input: S,
    opts: ChunkedOptions,
) -> (
    impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
    SummaryHandle,
)
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
    let handle = SummaryHandle::default();
    let stream = ChunkedDecoder::new(input, opts, Some(handle.clone()));
    (stream, handle)
}

/// Verifies chunk and trailer signatures, chaining each from the last.
struct Signer {
    signing: ChunkSigning,
    /// The signature the next one chains from (lower-case hex).
    previous: String,
    /// SHA-256 of the current chunk's data so far.
    chunk_hash: Sha256,
    /// The current chunk's signature as its header sent it.
    chunk_signature: String,
    /// The current chunk's data, held until its signature is verified.
    held: Vec<Bytes>,
}

impl Signer {
    fn new(signing: ChunkSigning) -> Self {
        let previous = signing.seed_signature.to_ascii_lowercase();
        Signer {
            signing,
            previous,
            chunk_hash: Sha256::new(),
            chunk_signature: String::new(),
            held: Vec::new(),
        }
    }

    /// Checks the hex signature `sent` against HMAC(signing key, `sts`) in
    /// constant time, and chains the next signature from it.
    fn verify(&mut self, sts: String, sent: &str) -> Result<(), ChunkError> {
        let sent = hex::decode(sent.trim()).map_err(|_| ChunkError::SignatureDoesNotMatch)?;
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.signing.signing_key)
            .expect("HMAC takes a key of any length");
        mac.update(sts.as_bytes());
        mac.verify_slice(&sent)
            .map_err(|_| ChunkError::SignatureDoesNotMatch)?;
        self.previous = hex::encode(sent);
        Ok(())
    }

    /// Verifies the chunk whose data has all been hashed.
    fn verify_chunk(&mut self) -> Result<(), ChunkError> {
        let data_hash = hex::encode(std::mem::take(&mut self.chunk_hash).finalize());
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            self.signing.amz_date, self.signing.scope, self.previous, EMPTY_SHA256, data_hash
        );
        let sent = std::mem::take(&mut self.chunk_signature);
        self.verify(sts, &sent)
    }

    /// Verifies `x-amz-trailer-signature` over the trailer lines.
    fn verify_trailer(
        &mut self,
        trailers: &[(String, String)],
        sent: &str,
    ) -> Result<(), ChunkError> {
        let mut hash = Sha256::new();
        for (name, value) in trailers {
            hash.update(name.as_bytes());
            hash.update(b":");
            hash.update(value.as_bytes());
            hash.update(b"\n");
        }
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.signing.amz_date,
            self.signing.scope,
            self.previous,
            hex::encode(hash.finalize())
        );
        self.verify(sts, sent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a `<hex-size>[;ext...]\r\n` line.
    Header,
    /// Reading this many more bytes of chunk data.
    Data(u64),
    /// Reading the CRLF after chunk data; how many of its bytes were seen.
    DataCrlf(u8),
    /// After the final (zero-size) chunk header: trailer lines up to a blank
    /// line.
    Trailer,
    /// Verified in full; the input must hold nothing more.
    Done,
    /// Ended, after an error or the input's end.
    Finished,
}

struct ChunkedDecoder<S> {
    input: S,
    input_ended: bool,
    /// The part of the last input piece not consumed yet.
    pending: Bytes,
    state: State,
    /// A header or trailer line so far, across input pieces.
    line: Vec<u8>,
    /// Decoded bytes ready to yield.
    out: VecDeque<Bytes>,
    signer: Option<Signer>,
    checksum: Option<Checksummer>,
    trailer_signed: bool,
    decoded_length: Option<u64>,
    total: u64,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
    trailer_bytes: usize,
    /// An error to yield first (bad options).
    startup_error: Option<ChunkError>,
    summary: Option<SummaryHandle>,
}

impl<S> ChunkedDecoder<S>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    fn new(input: S, opts: ChunkedOptions, summary: Option<SummaryHandle>) -> Self {
        let startup_error = (opts.trailer_signed && opts.signing.is_none())
            .then(|| ChunkError::Malformed("a signed trailer needs signed chunks".to_string()));
        ChunkedDecoder {
            input,
            input_ended: false,
            pending: Bytes::new(),
            state: State::Header,
            line: Vec::new(),
            out: VecDeque::new(),
            signer: opts.signing.map(Signer::new),
            checksum: opts.trailer.map(Checksummer::new),
            trailer_signed: opts.trailer_signed,
            decoded_length: opts.decoded_length,
            total: 0,
            trailers: Vec::new(),
            trailer_signature: None,
            trailer_bytes: 0,
            startup_error,
            summary,
        }
    }

    /// Moves bytes of `pending` into `line` up to and including a LF.
    /// Returns whether the line is complete.
    fn read_line(&mut self) -> Result<bool, ChunkError> {
        let (take, complete) = match self.pending.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (self.pending.len(), false),
        };
        if self.line.len() + take > MAX_LINE {
            return Err(ChunkError::Malformed("line too long".to_string()));
        }
        self.line.extend_from_slice(&self.pending[..take]);
        self.pending.advance(take);
        Ok(complete)
    }

    /// The complete line without its CRLF.
    fn take_line(&mut self) -> Result<String, ChunkError> {
        let mut line = std::mem::take(&mut self.line);
        if !line.ends_with(b"\r\n") {
            return Err(ChunkError::Malformed("line not ended by CRLF".to_string()));
        }
        line.truncate(line.len() - 2);
        String::from_utf8(line).map_err(|_| ChunkError::Malformed("non-UTF-8 line".to_string()))
    }

    /// Consumes some of `pending`, which is not empty.
    fn step(&mut self) -> Result<(), ChunkError> {
        match self.state {
            State::Header => {
                if self.read_line()? {
                    let line = self.take_line()?;
                    self.on_header(&line)?;
                }
            }
            State::Data(remaining) => {
                let n = remaining.min(self.pending.len() as u64) as usize;
                let piece = self.pending.split_to(n);
                self.total += n as u64;
                if self.decoded_length.is_some_and(|want| self.total > want) {
                    return Err(ChunkError::IncompleteBody);
                }
                if let Some(sum) = &mut self.checksum {
                    sum.update(&piece);
                }
                match &mut self.signer {
                    Some(signer) => {
                        signer.chunk_hash.update(&piece);
                        signer.held.push(piece);
                    }
                    None => self.out.push_back(piece),
                }
                let remaining = remaining - n as u64;
                self.state = if remaining == 0 {
                    State::DataCrlf(0)
                } else {
                    State::Data(remaining)
                };
            }
            State::DataCrlf(seen) => {
                if self.pending[0] != b"\r\n"[usize::from(seen)] {
                    return Err(ChunkError::Malformed(
                        "chunk data not followed by CRLF".to_string(),
                    ));
                }
                self.pending.advance(1);
                if seen == 0 {
                    self.state = State::DataCrlf(1);
                } else {
                    if let Some(signer) = &mut self.signer {
                        signer.verify_chunk()?;
                        self.out.extend(signer.held.drain(..));
                    }
                    self.state = State::Header;
                }
            }
            State::Trailer => {
                if self.read_line()? {
                    let line = self.take_line()?;
                    self.on_trailer_line(line)?;
                }
            }
            State::Done => {
                return Err(ChunkError::Malformed(
                    "data after the final chunk".to_string(),
                ));
            }
            State::Finished => self.pending.clear(),
        }
        Ok(())
    }

    fn on_header(&mut self, line: &str) -> Result<(), ChunkError> {
        let mut parts = line.split(';');
        let size = parts.next().unwrap_or_default().trim();
        if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ChunkError::Malformed(format!("bad chunk size {size:?}")));
        }
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| ChunkError::Malformed(format!("bad chunk size {size:?}")))?;
        if size > MAX_CHUNK_SIZE {
            return Err(ChunkError::ChunkTooLarge);
        }
        if let Some(signer) = &mut self.signer {
            let signature = parts
                .filter_map(|ext| ext.split_once('='))
                .find(|(name, _)| name.trim() == "chunk-signature")
                .map(|(_, value)| value.trim().to_string())
                .ok_or_else(|| {
                    ChunkError::Malformed("chunk without chunk-signature".to_string())
                })?;
            signer.chunk_signature = signature;
        }
        if size > 0 {
            self.state = State::Data(size);
            return Ok(());
        }
        // The final chunk: its (empty) data is signed like any other.
        if let Some(signer) = &mut self.signer {
            signer.verify_chunk()?;
        }
        if self.decoded_length.is_some_and(|want| self.total != want) {
            return Err(ChunkError::IncompleteBody);
        }
        self.state = State::Trailer;
        Ok(())
    }

    fn on_trailer_line(&mut self, line: String) -> Result<(), ChunkError> {
        if line.is_empty() {
            return self.finish();
        }
        self.trailer_bytes += line.len() + 2;
        if self.trailer_bytes > MAX_TRAILER {
            return Err(ChunkError::MalformedTrailer("trailer too long".to_string()));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| ChunkError::MalformedTrailer(format!("bad trailer line {line:?}")))?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case(TRAILER_SIGNATURE) {
            if self.trailer_signature.is_some() {
                return Err(ChunkError::MalformedTrailer(
                    "two trailer signatures".to_string(),
                ));
            }
            self.trailer_signature = Some(value.to_string());
        } else {
            self.trailers.push((name.to_string(), value.to_string()));
        }
        Ok(())
    }

    /// The trailer section has ended: verify its signature and checksum.
    fn finish(&mut self) -> Result<(), ChunkError> {
        if self.trailer_signed {
            let sent = self.trailer_signature.take().ok_or_else(|| {
                ChunkError::MalformedTrailer("missing x-amz-trailer-signature".to_string())
            })?;
            if let Some(signer) = &mut self.signer {
                signer.verify_trailer(&self.trailers, &sent)?;
            }
        }
        let mut verified = None;
        if let Some(sum) = self.checksum.take() {
            let alg = sum.algorithm();
            let (_, value) = self
                .trailers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(alg.header_name()))
                .ok_or_else(|| {
                    ChunkError::MalformedTrailer(format!("missing trailer {}", alg.header_name()))
                })?;
            if !sum.matches(value) {
                return Err(ChunkError::BadDigest);
            }
            verified = Some((alg, value.clone()));
        }
        self.state = State::Done;
        if let Some(handle) = &self.summary {
            let _ = handle.0.set(DecodeSummary {
                decoded_length: self.total,
                checksum: verified,
                trailers: std::mem::take(&mut self.trailers),
            });
        }
        Ok(())
    }

    /// The input has ended with `pending` empty.
    fn on_input_end(&mut self) -> Result<(), ChunkError> {
        match self.state {
            // Tolerate a missing blank line after at least one trailer line.
            State::Trailer if self.line.is_empty() && !self.trailers.is_empty() => self.finish(),
            State::Done | State::Finished => Ok(()),
            _ => Err(ChunkError::IncompleteBody),
        }
    }

    fn fail(&mut self, err: io::Error) -> Poll<Option<io::Result<Bytes>>> {
        self.state = State::Finished;
        self.out.clear();
        self.pending.clear();
        if let Some(signer) = &mut self.signer {
            signer.held.clear();
        }
        Poll::Ready(Some(Err(err)))
    }
}

impl<S> Stream for ChunkedDecoder<S>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(err) = this.startup_error.take() {
            return this.fail(err.into());
        }
        loop {
            if let Some(piece) = this.out.pop_front() {
                return Poll::Ready(Some(Ok(piece)));
            }
            if this.state == State::Finished {
                return Poll::Ready(None);
            }
            if !this.pending.is_empty() {
                if let Err(err) = this.step() {
                    return this.fail(err.into());
                }
                continue;
            }
            if this.input_ended {
                if let Err(err) = this.on_input_end() {
                    return this.fail(err.into());
                }
                if this.state == State::Done {
                    this.state = State::Finished;
                }
                continue;
            }
            match Pin::new(&mut this.input).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(piece))) => this.pending = piece,
                Poll::Ready(Some(Err(err))) => return this.fail(err),
                Poll::Ready(None) => this.input_ended = true,
            }
        }
    }
}

/// What a pass-through verifier checks at the end of the body.
enum Expectation {
    Sha256 {
        hash: Sha256,
        expected_hex: String,
    },
    Checksum {
        sum: Checksummer,
        expected_base64: String,
    },
}

impl Expectation {
    fn update(&mut self, data: &[u8]) {
        match self {
            Expectation::Sha256 { hash, .. } => hash.update(data),
            Expectation::Checksum { sum, .. } => sum.update(data),
        }
    }

    fn check(self) -> Result<(), ChunkError> {
        match self {
            Expectation::Sha256 { hash, expected_hex } => {
                let matches = hex::decode(expected_hex.trim())
                    .is_ok_and(|expected| expected.as_slice() == hash.finalize().as_slice());
                if matches {
                    Ok(())
                } else {
                    Err(ChunkError::XAmzContentSha256Mismatch)
                }
            }
            Expectation::Checksum {
                sum,
                expected_base64,
            } => {
                if sum.matches(&expected_base64) {
                    Ok(())
                } else {
                    Err(ChunkError::BadDigest)
                }
            }
        }
    }
}

struct Verifier<S> {
    input: S,
    expectation: Option<Expectation>,
}

impl<S> Stream for Verifier<S>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(expectation) = &mut this.expectation else {
            return Poll::Ready(None);
        };
        match Pin::new(&mut this.input).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(piece))) => {
                expectation.update(&piece);
                Poll::Ready(Some(Ok(piece)))
            }
            Poll::Ready(Some(Err(err))) => {
                this.expectation = None;
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => match this.expectation.take().map(Expectation::check) {
                Some(Err(err)) => Poll::Ready(Some(Err(err.into()))),
                _ => Poll::Ready(None),
            },
        }
    }
}

/// Passes a plain body through and, when it ends, checks its SHA-256 against
/// `x-amz-content-sha256` (hex): on a mismatch the stream yields
/// [`ChunkError::XAmzContentSha256Mismatch`] in place of its end. Nothing is
/// held back, so the consumer must not commit the data before the end.
pub fn verify_sha256<S>(
    input: S,
    expected_hex: String,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
    Verifier {
        input,
        expectation: Some(Expectation::Sha256 {
            hash: Sha256::new(),
            expected_hex,
        }),
    }
}

/// Passes a plain body through and, when it ends, checks it against an
/// `x-amz-checksum-*` header (base64): on a mismatch the stream yields
/// [`ChunkError::BadDigest`] in place of its end.
pub fn verify_checksum<S>(
    input: S,
    algorithm: ChecksumAlgorithm,
    expected_base64: String,
) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
{
    Verifier {
        input,
        expectation: Some(Expectation::Checksum {
            sum: Checksummer::new(algorithm),
            expected_base64,
        }),
    }
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
