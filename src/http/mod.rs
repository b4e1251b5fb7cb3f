//! The HTTP drivers: one actix-web application serves the API, the S3 gateway
//! and the UI. Each module registers its own routes.

pub mod api;
pub mod audit;
mod health;
pub mod metrics;
pub mod observe;
pub mod request_log;
pub mod s3;
pub mod shared;
mod ui;

use actix_web::{web, HttpResponse};
use serde::Serialize;

/// The JSON error body of the API: `{"message": ...}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    /// What went wrong, for people.
    pub message: &'a str,
    /// The request's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    health::routes(cfg);
    metrics::routes(cfg);
    api::routes(cfg);
    // After the API, whose routes it must not shadow; its guard claims S3
    // requests on every other path.
    s3::routes(cfg);
    cfg.route("/openapi.json", web::get().to(api::openapi::serve))
        .route("/logout", web::get().to(api::auth::logout))
        .default_service(web::to(fallback));
}

/// GET and HEAD outside the API are the UI's, except under `/_` (the
/// server's own endpoints: an unknown one, such as `/_pprof/`, is not
/// found, never a page); anything else is not found.
async fn fallback(req: actix_web::HttpRequest) -> HttpResponse {
    let method = req.method();
    let page = !req.path().starts_with("/_");
    if page && (method == actix_web::http::Method::GET || method == actix_web::http::Method::HEAD) {
        return ui::serve(req).await;
    }
    not_found().await
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(ErrorBody {
        message: "not found",
        request_id: observe::current_id(),
    })
}
