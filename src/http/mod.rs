//! The HTTP drivers: one actix-web application serves the API, the S3 gateway
//! and the UI. Each module registers its own routes.

pub mod api;
mod health;
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
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    health::routes(cfg);
    api::routes(cfg);
    // After the API, whose routes it must not shadow; its guard claims S3
    // requests on every other path.
    s3::routes(cfg);
    cfg.route("/openapi.json", web::get().to(api::openapi::serve))
        .route("/logout", web::get().to(api::auth::logout))
        .default_service(web::to(fallback));
}

/// GET and HEAD outside the API are the UI's; anything else is not found.
async fn fallback(req: actix_web::HttpRequest) -> HttpResponse {
    let method = req.method();
    if method == actix_web::http::Method::GET || method == actix_web::http::Method::HEAD {
        return ui::serve(req).await;
    }
    not_found().await
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(ErrorBody {
        message: "not found",
    })
}
