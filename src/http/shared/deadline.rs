//! Request bodies must keep moving. A client that declares a large body and
//! trickles it would otherwise hold a connection (and a temporary file or an
//! open upload) forever. Every request body is read through [`Deadline`]:
//! it fails once nothing has arrived for `idle`, or once the body averages
//! fewer than `min_rate` bytes per second after the first `idle`. The
//! drivers then answer as S3 does (`RequestTimeout`; 408 on the API) and
//! store nothing: the write sees its body fail.

use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};
use bytes::Bytes;
use futures::Stream;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// How fast a request body must arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The longest wait for the next bytes (and the grace period before the
    /// rate counts).
    pub idle: Duration,
    /// The lowest average rate after the grace period, bytes per second
    /// (0: none).
    pub min_rate: u64,
}

/// Set on a request whose body was cut off.
#[derive(Clone, Default)]
struct TimedOut(Arc<AtomicBool>);

/// Whether `req`'s body was cut off for arriving too slowly: the driver
/// answers `RequestTimeout` whatever the handler made of the failed body.
pub fn body_timed_out(req: &HttpRequest) -> bool {
    req.extensions()
        .get::<TimedOut>()
        .is_some_and(|t| t.0.load(Ordering::SeqCst))
}

/// The message both drivers give.
pub const TIMEOUT_MESSAGE: &str = "Your socket connection to the server was not read from or \
     written to within the timeout period: the request body arrived too slowly";

/// Middleware: reads every request body through a [`Deadline`].
pub async fn limit_bodies(
    limits: BodyLimits,
    mut req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let flag = TimedOut::default();
    req.extensions_mut().insert(flag.clone());
    let inner = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(Deadline::new(inner, limits, flag.0));
    req.set_payload(Payload::from(stream));
    next.call(req).await
}

/// A body stream that fails when it stalls or crawls.
pub struct Deadline<S> {
    inner: S,
    limits: BodyLimits,
    /// When the handler first asked for the body: time a handler spends
    /// before reading (a database wait) is not the client's.
    started: Option<Instant>,
    received: u64,
    timer: Option<Pin<Box<Sleep>>>,
    flag: Arc<AtomicBool>,
    done: bool,
}

impl<S> Deadline<S> {
    fn new(inner: S, limits: BodyLimits, flag: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            limits,
            started: None,
            received: 0,
            timer: None,
            flag,
            done: false,
        }
    }

    /// When the body must have sent more: `idle` from now, or sooner if the
    /// bytes so far are behind the minimum rate.
    fn next_deadline(&self, now: Instant) -> Instant {
        let idle = now + self.limits.idle;
        if self.limits.min_rate == 0 {
            return idle;
        }
        let earned = Duration::from_secs_f64(self.received as f64 / self.limits.min_rate as f64);
        idle.min(self.started.unwrap_or(now) + self.limits.idle + earned)
    }
}

impl<S> Stream for Deadline<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                let at = self.next_deadline(Instant::now());
                match self.timer.as_mut() {
                    Some(t) => t.as_mut().reset(at),
                    None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                self.done = true;
                Poll::Ready(other)
            }
            Poll::Pending => {
                if self.timer.is_none() {
                    let at = self.next_deadline(Instant::now());
                    self.timer = Some(Box::pin(tokio::time::sleep_until(at)));
                }
                let fired = self
                    .timer
                    .as_mut()
                    .is_some_and(|t| t.as_mut().poll(cx).is_ready());
                if !fired {
                    return Poll::Pending;
                }
                self.done = true;
                self.flag.store(true, Ordering::SeqCst);
                tracing::info!(
                    received = self.received,
                    elapsed_ms = self.started.map_or(0, |s| s.elapsed().as_millis() as u64),
                    "request body cut off: too slow"
                );
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    TIMEOUT_MESSAGE,
                )))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn limits(idle_ms: u64, min_rate: u64) -> BodyLimits {
        BodyLimits {
            idle: Duration::from_millis(idle_ms),
            min_rate,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_idle_time() {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, PayloadError>>();
        tx.unbounded_send(Ok(Bytes::from_static(b"x"))).unwrap();
        let mut body = Deadline::new(rx, limits(1000, 0), flag.clone());
        assert_eq!(body.next().await.unwrap().unwrap(), "x");
        let t = Instant::now();
        assert!(body.next().await.unwrap().is_err());
        assert_eq!(t.elapsed(), Duration::from_millis(1000));
        assert!(flag.load(Ordering::SeqCst));
        assert!(body.next().await.is_none());
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_fails_once_behind_the_minimum_rate() {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, PayloadError>>();
        let mut body = Deadline::new(rx, limits(2000, 100), flag.clone());
        // One byte every 500 ms never trips the idle timer, but falls
        // behind 100 B/s right after the 2 s grace.
        let feeder = tokio::spawn(async move {
            loop {
                if tx.unbounded_send(Ok(Bytes::from_static(b"y"))).is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let t = Instant::now();
        let mut got = 0;
        while let Some(item) = body.next().await {
            match item {
                Ok(c) => got += c.len(),
                Err(_) => break,
            }
        }
        assert!(flag.load(Ordering::SeqCst));
        assert!(
            t.elapsed() < Duration::from_millis(2600),
            "{:?}",
            t.elapsed()
        );
        assert!(got >= 4, "{got}");
        drop(body);
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_clock_starts_when_the_handler_reads() {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, PayloadError>>();
        let mut body = Deadline::new(rx, limits(1000, 100), flag.clone());
        // The handler is busy for longer than the grace before it reads.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let feeder = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                tx.unbounded_send(Ok(Bytes::from(vec![0u8; 100]))).unwrap();
            }
        });
        let mut got = 0;
        while let Some(item) = body.next().await {
            got += item.unwrap().len();
        }
        assert_eq!(got, 500);
        assert!(!flag.load(Ordering::SeqCst));
        feeder.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_body_is_never_cut() {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, PayloadError>>();
        let mut body = Deadline::new(rx, limits(1000, 100), flag.clone());
        let feeder = tokio::spawn(async move {
            for _ in 0..50 {
                tx.unbounded_send(Ok(Bytes::from(vec![0u8; 100]))).unwrap();
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let mut got = 0;
        while let Some(item) = body.next().await {
            got += item.unwrap().len();
        }
        assert_eq!(got, 5000);
        assert!(!flag.load(Ordering::SeqCst));
        feeder.await.unwrap();
    }
}
