//! The root span of every request, as tracing-actix-web's default but with
//! credentials taken out of the logged target: presigned S3 URLs carry their
//! signature in the query, valid for days.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "X-Amz-Signature",
    "Signature",
    "X-Amz-Credential",
    "AWSAccessKeyId",
    "X-Amz-Security-Token",
];

/// Builds request spans with redacted targets.
pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let target = redact(request.path(), request.query_string());
        // The request's id: a valid incoming X-Request-Id, else the one
        // tracing-actix-web made; every log line of the request carries it.
        let id = super::observe::incoming(request).unwrap_or_else(|| {
            request
                .extensions()
                .get::<tracing_actix_web::RequestId>()
                .map(|r| r.to_string())
                .unwrap_or_default()
        });
        request
            .extensions_mut()
            .insert(super::observe::RequestId(id.as_str().into()));
        tracing::info_span!(
            "HTTP request",
            request_id = %id,
            http.method = %request.method(),
            http.route = request.match_pattern().unwrap_or_default(),
            http.target = %target,
            http.status_code = tracing::field::Empty,
            // Exported spans are named by route (a span's name is fixed
            // when it starts); the operation is added when known (observe).
            otel.name = %format_args!(
                "{} {}",
                request.method(),
                request.match_pattern().as_deref().unwrap_or("unmatched")
            ),
            tarn.driver = tracing::field::Empty,
            tarn.operation = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// `path?query` with secret parameter values replaced.
pub fn redact(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(k)) => {
                format!("{k}=REDACTED")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn signatures_and_credentials_are_redacted() {
        let got = redact("/b/main/k", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F2024&X-Amz-Signature=abc123&x=1");
        assert_eq!(got, "/b/main/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x=1");
        assert_eq!(
            redact("/p", "AWSAccessKeyId=AK&Signature=s%2B&Expires=1"),
            "/p?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1"
        );
        assert_eq!(redact("/p", ""), "/p");
    }
}
