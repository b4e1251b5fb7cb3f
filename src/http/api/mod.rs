//! The REST API: lakeFS API v1 under `/api/v1`, one file per resource.

pub mod auth;
mod branches;
mod commits;
pub mod config;
mod error;
mod models;
mod objects;
pub mod openapi;
mod permissions;
mod refs;
pub mod repositories;
mod settings;
mod staging;
mod tags;
mod unimplemented;
mod uploads;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use error::ApiError;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

/// Registers the API.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .configure(config::routes)
            .configure(repositories::routes)
            .configure(branches::routes)
            .configure(commits::routes)
            .configure(refs::routes)
            .configure(tags::routes)
            .configure(objects::routes)
            .configure(uploads::routes)
            .configure(staging::routes)
            .configure(settings::routes)
            .configure(auth::routes)
            .default_service(web::to(fallback)),
    );
}

/// An API resource: every request to it is authenticated and authorized
/// (`permissions::guard`); its unknown methods answer like unknown routes.
pub(crate) fn resource(
    path: &str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::resource(path)
        .default_service(web::to(fallback))
        .wrap(actix_web::middleware::from_fn(permissions::guard))
}

/// 501 for a lakeFS operation Tarn lacks, 404 for anything else; both only
/// for an authenticated caller (401 otherwise), so that the API's shape is
/// not shown to strangers.
async fn fallback(req: HttpRequest) -> HttpResponse {
    let authenticated = match req.app_data::<web::Data<auth::AuthState>>() {
        Some(state) => state.authenticate(&req).await.map(|p| p.is_some()),
        None => Ok(false),
    };
    match authenticated {
        Ok(true) => {}
        Ok(false) => return ApiError::unauthenticated().error_response(),
        Err(e) => return e.error_response(),
    }
    let relative = req.path().strip_prefix(PREFIX).unwrap_or(req.path());
    let method = req.method().as_str();
    let known = unimplemented::UNIMPLEMENTED
        .iter()
        .find(|(m, pattern, _)| *m == method && matches(pattern, relative));
    match known {
        Some((_, _, op)) => ApiError::not_implemented(op).error_response(),
        None => ApiError::invalid_endpoint().error_response(),
    }
}

/// Whether `path` fits `pattern`, whose `{name}` segments match any one segment.
fn matches(pattern: &str, path: &str) -> bool {
    let (p, s): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == s.len()
        && p.iter()
            .zip(&s)
            .all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_whole_segments() {
        assert!(matches(
            "/repositories/{repository}/settings/gc_rules",
            "/repositories/r/settings/gc_rules"
        ));
        assert!(!matches("/repositories/{repository}", "/repositories/r/x"));
        assert!(!matches("/repositories/{repository}", "/repositories/"));
    }
}
