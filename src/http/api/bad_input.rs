//! Bad input caught before a handler runs (the framework's extractors:
//! JSON bodies, query strings, path segments) answers as every other API
//! error does: JSON `{"message": ...}` with a 4xx status, which lakeFS's
//! clients parse. A last guard turns any other error the framework renders
//! as text into the same shape.

use super::error::ApiError;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest, ResponseError};

/// The largest JSON body an operation takes (policies and commit metadata
/// are the big ones; lakeFS's server limits request bodies likewise).
pub(crate) const JSON_LIMIT: usize = 4 << 20;

/// The extractor settings of the API: errors as JSON.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_LIMIT)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error));
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body of {length} bytes is larger than the {limit} bytes allowed"),
        ),
        JsonPayloadError::Overflow { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the {limit} bytes allowed"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request body must be JSON (Content-Type: application/json)",
        ),
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!("bad JSON body: {e}")),
        JsonPayloadError::Serialize(e) => ApiError::bad_request(format!("bad JSON body: {e}")),
        JsonPayloadError::Payload(e) => ApiError::new(
            e.status_code(),
            format!("cannot read the request body: {e}"),
        ),
        other => ApiError::new(other.status_code(), other.to_string()),
    };
    e.into()
}

fn query_error(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
    let detail = match &err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let culprit = culprit(&detail, req.query_string())
        .map(|p| format!(" (in {p})"))
        .unwrap_or_default();
    ApiError::bad_request(format!("bad query parameters: {detail}{culprit}")).into()
}

/// The parameter whose value the deserializer quoted (`invalid integer
/// "abc"`), so that the message names it.
fn culprit<'a>(detail: &str, query: &'a str) -> Option<&'a str> {
    let quoted = detail.split('"').nth(1)?;
    query.split('&').find(|pair| {
        pair.split_once('=')
            .is_some_and(|(_, v)| urlencoding::decode(v).is_ok_and(|v| v == quoted))
    })
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    let detail = match &err {
        PathError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    ApiError::bad_request(format!("bad path parameter: {detail}")).into()
}

/// A JSON body that may be left out (lakeFS's optional request bodies):
/// `None` without a body, the value with a good one, and the same errors as
/// `web::Json` with a bad one (`Option<web::Json>` would take a malformed
/// body for no body).
pub(crate) struct OptionalJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let headers = req.headers();
        let empty = !headers.contains_key(header::TRANSFER_ENCODING)
            && headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.trim() == "0");
        if empty {
            return Box::pin(async { Ok(Self(None)) });
        }
        let json = web::Json::<T>::from_request(req, payload);
        Box::pin(async move { Ok(Self(Some(json.await?.into_inner()))) })
    }
}

/// Rewrites an error response that is not JSON (one the framework rendered
/// from its own error types) as `{"message": ...}` with the same status.
pub(crate) fn json_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(as_json)
}

fn as_json<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let status = res.status();
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let message = match res.response().error() {
        Some(e) => e.to_string(),
        None => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    };
    let (req, _) = res.into_parts();
    let body: actix_web::HttpResponse<BoxBody> = ApiError::new(status, message).error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, body).map_into_right_body::<B>(),
    ))
}
