//! Request bodies: a [`ByteStream`] of declared length as an SDK body that
//! checks the length on the way, and part-sized buffers for bodies of
//! unknown length.

use aws_sdk_s3::primitives::ByteStream as SdkStream;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use futures::StreamExt;
use http_body::{Body, Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tarn_ports::{ByteStream, ErrorKind, PortError};

/// Why a streamed body was cut short: the request then fails and S3 stores
/// nothing; this says what to report instead of the transport error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The body had a different length than declared.
    WrongLength(String),
    /// The body stream failed.
    Failed(String),
}

impl Fault {
    pub fn into_error(self) -> PortError {
        match self {
            Self::WrongLength(m) => PortError::invalid_input(m),
            Self::Failed(m) => PortError::new(ErrorKind::Interrupted, m),
        }
    }
}

/// Where a [`checked`] body records its [`Fault`].
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultSlot(Arc<Mutex<Option<Fault>>>);

impl FaultSlot {
    fn set(&self, fault: Fault) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(fault);
        }
    }

    /// The fault recorded, if any.
    pub fn take(&self) -> Option<Fault> {
        self.0.lock().ok().and_then(|mut f| f.take())
    }
}

/// `stream` as an SDK body of exactly `length` bytes; a body that fails, or
/// turns out shorter or longer, ends the request with an error and records
/// why in the returned slot.
pub(crate) fn checked(stream: ByteStream, length: u64) -> (SdkStream, FaultSlot) {
    let slot = FaultSlot::default();
    let body = Checked {
        // A mutex only to make the body `Sync`, as the SDK asks; it is
        // reached through `get_mut`, never locked.
        stream: Mutex::new(stream),
        length,
        seen: 0,
        held: None,
        done: false,
        slot: slot.clone(),
    };
    (SdkStream::new(SdkBody::from_body_1_x(body)), slot)
}

struct Checked {
    stream: Mutex<ByteStream>,
    length: u64,
    seen: u64,
    held: Option<Bytes>,
    done: bool,
    slot: FaultSlot,
}

impl Checked {
    fn fail(&mut self, fault: Fault) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.done = true;
        self.held = None;
        let message = match &fault {
            Fault::WrongLength(m) | Fault::Failed(m) => m.clone(),
        };
        self.slot.set(fault);
        Poll::Ready(Some(Err(io::Error::other(message))))
    }
}

impl Body for Checked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        loop {
            if self.done {
                return Poll::Ready(self.held.take().map(|c| Ok(Frame::data(c))));
            }
            let next = match self.stream.get_mut() {
                Ok(stream) => stream.poll_next_unpin(cx),
                Err(_) => return self.fail(Fault::Failed("request body poisoned".into())),
            };
            match next {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    return self.fail(Fault::Failed(format!("request body: {e}")))
                }
                Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => {}
                Poll::Ready(Some(Ok(chunk))) => {
                    self.seen += chunk.len() as u64;
                    if self.seen > self.length {
                        let m =
                            format!("the body is longer than the declared {} bytes", self.length);
                        return self.fail(Fault::WrongLength(m));
                    }
                    if self.seen < self.length {
                        return Poll::Ready(Some(Ok(Frame::data(chunk))));
                    }
                    // The chunk that completes the length waits until the
                    // stream is seen to end: HTTP stops reading a body once
                    // Content-Length bytes are sent, so an overlong body
                    // would otherwise be stored cut short.
                    self.held = Some(chunk);
                }
                Poll::Ready(None) if self.seen < self.length => {
                    let m = format!(
                        "the body ended after {} of the declared {} bytes",
                        self.seen, self.length
                    );
                    return self.fail(Fault::WrongLength(m));
                }
                Poll::Ready(None) => self.done = true,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.held.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.held.as_ref().map_or(0, |c| c.len() as u64);
        SizeHint::with_exact(self.length.saturating_sub(self.seen) + held)
    }
}

/// A request body read in blocks of up to `limit` bytes, for bodies whose
/// length is not known up front (S3 needs each request's length). The body
/// is never polled again after it ended.
pub(crate) struct Blocks {
    stream: ByteStream,
    carry: Option<Bytes>,
    ended: bool,
    limit: usize,
}

impl Blocks {
    pub fn new(stream: ByteStream, limit: usize) -> Self {
        Self {
            stream,
            carry: None,
            ended: false,
            limit,
        }
    }

    /// The next `limit` bytes, or what is left at the end; `None` once the
    /// body is all read. A failing body is `Interrupted`.
    pub async fn next(&mut self) -> Result<Option<Bytes>, PortError> {
        let mut buf: Vec<u8> = Vec::new();
        if let Some(chunk) = self.carry.take() {
            buf.extend_from_slice(&chunk);
        }
        while buf.len() < self.limit && !self.ended {
            match self.stream.next().await {
                Some(Ok(chunk)) => {
                    let needed = buf.len() + chunk.len();
                    if needed > buf.capacity() {
                        // Grow by doubling, but never past the block size.
                        let target = needed.max(buf.len() * 2).min(needed.max(self.limit));
                        buf.reserve_exact(target - buf.len());
                    }
                    buf.extend_from_slice(&chunk);
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Err(PortError::new(
                        ErrorKind::Interrupted,
                        format!("request body: {e}"),
                    ));
                }
                None => self.ended = true,
            }
        }
        if buf.len() > self.limit {
            self.carry = Some(Bytes::from(buf.split_off(self.limit)));
        }
        Ok((!buf.is_empty()).then(|| Bytes::from(buf)))
    }

    /// Whether the body is known to hold nothing more.
    pub fn exhausted(&self) -> bool {
        self.ended && self.carry.is_none()
    }
}

/// Reads a body declared empty: `InvalidInput` if it holds any byte,
/// `Interrupted` if it fails. (HTTP sends no body for a length of 0, so it
/// would not be read otherwise.)
pub(crate) async fn expect_empty(mut stream: ByteStream) -> Result<(), PortError> {
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) if c.is_empty() => {}
            Ok(_) => {
                return Err(PortError::invalid_input(
                    "the body is longer than the declared 0 bytes",
                ))
            }
            Err(e) => {
                return Err(PortError::new(
                    ErrorKind::Interrupted,
                    format!("request body: {e}"),
                ))
            }
        }
    }
    Ok(())
}

/// The shared body of a multipart upload whose parts are streamed one
/// after another, each [`Source::part`] taking its bytes in turn.
pub(crate) struct Source {
    stream: ByteStream,
    carry: Option<Bytes>,
}

impl Source {
    pub fn new(stream: ByteStream) -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            stream,
            carry: None,
        }))
    }

    /// The next `length` bytes of the body, as a stream (shorter if the body
    /// ends first; [`checked`] then reports the wrong length).
    pub fn part(this: &Arc<Mutex<Self>>, length: u64) -> ByteStream {
        ByteStream::new(Part {
            source: this.clone(),
            remaining: length,
        })
    }

    /// Whether anything is left after the parts: the body was longer than
    /// declared.
    pub async fn has_more(this: &Arc<Mutex<Self>>) -> bool {
        let mut rest = Self::part(this, u64::MAX);
        matches!(rest.next().await, Some(Ok(_)))
    }
}

struct Part {
    source: Arc<Mutex<Source>>,
    remaining: u64,
}

impl futures::Stream for Part {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let source = self.source.clone();
        let Ok(mut source) = source.lock() else {
            return Poll::Ready(Some(Err(io::Error::other("request body poisoned"))));
        };
        let chunk = match source.carry.take() {
            Some(chunk) => chunk,
            None => loop {
                match source.stream.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => {}
                    Poll::Ready(Some(Ok(chunk))) => break chunk,
                    other => return other,
                }
            },
        };
        let mut chunk = chunk;
        if chunk.len() as u64 > self.remaining {
            source.carry = Some(chunk.split_off(self.remaining as usize));
        }
        self.remaining -= chunk.len() as u64;
        Poll::Ready(Some(Ok(chunk)))
    }
}
