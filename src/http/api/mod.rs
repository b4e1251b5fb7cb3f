//! The REST API: lakeFS API v1 under `/api/v1`, one file per resource.

mod action_runs;
mod archives;
pub mod auth;
mod bad_input;
mod branches;
mod commits;
mod compactions;
pub mod config;
mod error;
mod gc_rules;
mod gc_runs;
mod imports;
mod metadata_files;
mod models;
pub(crate) mod nesting;
mod objects;
pub mod openapi;
pub(crate) mod operation;
mod presigned_multipart;
mod pulls;
mod refs;
mod refs_dump;
mod refs_tasks;
mod repo_jobs;
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

/// Every resource file's declared operations.
static RESOURCES: &[&[operation::Operation]] = &[
    config::OPERATIONS,
    action_runs::OPERATIONS,
    repositories::OPERATIONS,
    branches::OPERATIONS,
    commits::OPERATIONS,
    refs::OPERATIONS,
    tags::OPERATIONS,
    objects::OPERATIONS,
    uploads::OPERATIONS,
    archives::OPERATIONS,
    staging::OPERATIONS,
    settings::OPERATIONS,
    gc_rules::OPERATIONS,
    gc_runs::OPERATIONS,
    compactions::OPERATIONS,
    imports::OPERATIONS,
    metadata_files::OPERATIONS,
    pulls::OPERATIONS,
    presigned_multipart::OPERATIONS,
    refs_dump::OPERATIONS,
    refs_tasks::OPERATIONS,
    auth::OPERATIONS,
    auth::users::OPERATIONS,
    auth::groups::OPERATIONS,
    auth::policies::OPERATIONS,
    auth::credentials::OPERATIONS,
];

/// Every operation the API serves, as declared.
pub(crate) fn operations() -> impl Iterator<Item = &'static operation::Operation> {
    RESOURCES.iter().flat_map(|ops| ops.iter())
}

/// Registers the API: one resource per declared path (nested in scopes:
/// see `nesting`), one route per declared operation.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let scope = web::scope(PREFIX).configure(bad_input::configure);
    let scope = nesting::nest(scope, "", &declared_paths(), &|path, relative| {
        operations()
            .filter(|op| op.path == path)
            .fold(resource(relative), |res, op| res.route((op.route)()))
    });
    cfg.service(
        scope
            .default_service(web::to(fallback))
            .wrap(bad_input::json_errors()),
    );
}

/// Every declared path, once each, in declaration order.
pub(crate) fn declared_paths() -> Vec<&'static str> {
    let mut paths: Vec<&'static str> = Vec::new();
    for op in operations() {
        if !paths.contains(&op.path) {
            paths.push(op.path);
        }
    }
    paths
}

/// An API resource: every request to it goes through [`operation::guard`],
/// which serves only declared operations, authenticated and authorized.
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
        .wrap(actix_web::middleware::from_fn(operation::guard))
}

async fn fallback(req: HttpRequest) -> HttpResponse {
    fallback_error(&req).await.error_response()
}

/// 501 for a lakeFS operation Tarn lacks, 404 for anything else; both only
/// for an authenticated caller (401 otherwise), so that the API's shape is
/// not shown to strangers.
pub(crate) async fn fallback_error(req: &HttpRequest) -> ApiError {
    let authenticated = match req.app_data::<web::Data<auth::AuthState>>() {
        Some(state) => state.authenticate(req).await.map(|p| p.is_some()),
        None => Ok(false),
    };
    match authenticated {
        Ok(true) => {}
        Ok(false) => return ApiError::unauthenticated(),
        Err(e) => return e.into(),
    }
    let relative = req.path().strip_prefix(PREFIX).unwrap_or(req.path());
    let method = req.method().as_str();
    let known = unimplemented::UNIMPLEMENTED
        .iter()
        .find(|(m, pattern, _)| *m == method && matches(pattern, relative));
    match known {
        Some((_, _, op)) => ApiError::not_implemented(op),
        None => ApiError::invalid_endpoint(),
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
