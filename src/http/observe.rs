//! What every request leaves behind: an id (kept from a valid incoming
//! `X-Request-Id`, else made), sent back in `X-Request-Id` (and the
//! gateway's `x-amz-request-id`) and in error bodies; metrics (requests by
//! driver, operation and status class, latencies, bytes); and one log line
//! at a level that fits the outcome (client errors at debug, refused
//! credentials at info, server errors at error with their causes).

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// A request's id.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being served, where one is (handlers and the
/// conversion of their errors run inside [`observe`]).
pub fn current() -> Option<Arc<str>> {
    CURRENT.try_with(|id| id.0.clone()).ok()
}

/// [`current`] as a `String` (error bodies).
pub fn current_id() -> Option<String> {
    current().map(|id| id.to_string())
}

/// An incoming `X-Request-Id` is kept when it is 1 to 128 visible ASCII
/// characters; anything else is replaced.
pub fn incoming(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get("x-request-id")?.to_str().ok()?;
    let ok = (1..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| v.to_owned())
}

/// What the drivers learn of a request: which driver and operation, and
/// who called.
#[derive(Debug, Clone)]
pub struct Tag {
    pub driver: &'static str,
    pub operation: &'static str,
    pub user: Option<String>,
}

/// Where the drivers leave their [`Tag`]: a cell this middleware keeps a
/// handle to, so it reads the tag even when the request ended in an error
/// (and the request itself is gone with it).
#[derive(Clone, Default)]
struct TagSlot(Rc<RefCell<Option<Tag>>>);

/// Records the driver and operation of `req`.
pub fn tag(req: &HttpRequest, driver: &'static str, operation: &'static str) {
    if let Some(slot) = req.extensions().get::<TagSlot>() {
        *slot.0.borrow_mut() = Some(Tag {
            driver,
            operation,
            user: None,
        });
    }
}

/// Records the caller of `req` (after its driver tagged it).
pub fn set_user(req: &HttpRequest, user: &str) {
    if let Some(slot) = req.extensions().get::<TagSlot>() {
        if let Some(tag) = slot.0.borrow_mut().as_mut() {
            tag.user = Some(user.to_owned());
        }
    }
}

/// Requests that belong to no driver: the UI's pages and files, health.
fn untagged(path: &str) -> Tag {
    let (driver, operation) = match path {
        "/_health" => ("internal", "health"),
        "/_ready" => ("internal", "ready"),
        "/metrics" => ("internal", "metrics"),
        p if p.starts_with("/api/") => ("api", "unknown"),
        p if p.starts_with("/_") => ("internal", "unknown"),
        _ => ("ui", "page"),
    };
    Tag {
        driver,
        operation,
        user: None,
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// What the middleware saw of one request, for metrics, logs and audit.
pub struct Seen<'a> {
    pub id: &'a RequestId,
    pub tag: &'a Tag,
    pub method: &'a str,
    /// Path and query, credentials redacted.
    pub target: &'a str,
    /// The peer's address.
    pub source: &'a str,
    pub status: u16,
    pub seconds: f64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub error: Option<&'a str>,
}

/// The middleware: runs the request with its id in scope, turns an error
/// into its response there (so error bodies can carry the id), then
/// stamps, counts, logs and audits the outcome.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(|| RequestId(Arc::from(incoming(&req).unwrap_or_default())));
    let start = Instant::now();
    let bytes_in = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let path = req.path().to_owned();
    let target = super::request_log::redact(req.path(), req.query_string());
    let method = req.method().as_str().to_owned();
    let source = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let slot = TagSlot::default();
    req.extensions_mut().insert(slot.clone());
    // The handler's error becomes its response here, inside the scope,
    // so that error bodies can carry the id.
    let outcome = CURRENT
        .scope(id.clone(), async move {
            match next.call(req).await {
                Ok(res) => {
                    let error = res.response().error().map(|e| format!("{e}"));
                    Ok((res.map_into_boxed_body(), error))
                }
                Err(e) => Err((format!("{e}"), e.error_response())),
            }
        })
        .await;
    let tag = slot.0.borrow().clone().unwrap_or_else(|| untagged(&path));
    let seen = |status: u16, bytes_out: u64, error: Option<&str>| {
        let seen = Seen {
            id: &id,
            tag: &tag,
            method: &method,
            target: &target,
            source: &source,
            status,
            seconds: start.elapsed().as_secs_f64(),
            bytes_in,
            bytes_out,
            error,
        };
        record(&seen);
        super::audit::record(&seen);
    };
    match outcome {
        Ok((mut res, error)) => {
            stamp(res.headers_mut(), &id, &tag);
            seen(
                res.status().as_u16(),
                body_len(&method, res.response().body()),
                error.as_deref(),
            );
            Ok(res)
        }
        Err((text, mut response)) => {
            stamp(response.headers_mut(), &id, &tag);
            seen(
                response.status().as_u16(),
                body_len(&method, response.body()),
                Some(&text),
            );
            Err(InternalError::from_response(text, response).into())
        }
    }
}

/// The bytes a response sends: none to a HEAD (whose body declares the
/// object's length but sends nothing), a sized body's size (object reads
/// stream with their exact length), nothing known of a chunked one.
fn body_len(method: &str, body: &impl MessageBody) -> u64 {
    match body.size() {
        BodySize::Sized(n) if method != "HEAD" => n,
        _ => 0,
    }
}

/// `X-Request-Id` (and, on the gateway, `x-amz-request-id`).
fn stamp(headers: &mut HeaderMap, id: &RequestId, tag: &Tag) {
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        headers.insert(HeaderName::from_static("x-request-id"), value.clone());
        if tag.driver == "s3" {
            headers.insert(HeaderName::from_static("x-amz-request-id"), value);
        }
    }
}

/// Counts the request and logs its outcome once.
fn record(s: &Seen<'_>) {
    let (tag, status) = (s.tag, s.status);
    let labels = [("driver", tag.driver), ("operation", tag.operation)];
    metrics::counter!("tarn_http_requests_total", "driver" => tag.driver, "operation" => tag.operation, "status" => status_class(status)).increment(1);
    metrics::histogram!("tarn_http_request_duration_seconds", &labels).record(s.seconds);
    metrics::counter!("tarn_http_request_bytes_total", "driver" => tag.driver)
        .increment(s.bytes_in);
    metrics::counter!("tarn_http_response_bytes_total", "driver" => tag.driver)
        .increment(s.bytes_out);
    let user = tag.user.as_deref().unwrap_or("-");
    // On the request's span (tracing-actix-web's, which this runs inside),
    // for span exports.
    let span = tracing::Span::current();
    span.record("tarn.driver", tag.driver);
    span.record("tarn.operation", tag.operation);
    let error = s.error.unwrap_or("");
    let id = &*s.id.0;
    match status {
        500.. => tracing::error!(
            request_id = id,
            driver = tag.driver,
            operation = tag.operation,
            user,
            status,
            error,
            "request failed"
        ),
        401 | 403 => tracing::info!(
            request_id = id,
            driver = tag.driver,
            operation = tag.operation,
            user,
            status,
            error,
            "request refused"
        ),
        400..=499 => tracing::debug!(
            request_id = id,
            driver = tag.driver,
            operation = tag.operation,
            user,
            status,
            error,
            "client error"
        ),
        _ => tracing::debug!(
            request_id = id,
            driver = tag.driver,
            operation = tag.operation,
            user,
            status,
            seconds = s.seconds,
            "request served"
        ),
    }
}
