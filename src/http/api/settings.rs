//! Repository settings: branch protection rules, with ETag / If-Match.

use super::error::ApiResult;
use super::repositories::repo_id;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::Engine;
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/repositories/{repository}/settings/branch_protection")
            .get(get)
            .put(set),
    );
}

/// A branch protection rule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BranchProtectionRule {
    /// A glob (`*`, `?`) of protected branch names.
    pattern: String,
}

#[utoipa::path(get, path = "/api/v1/repositories/{repository}/settings/branch_protection", tag = "repositories",
    operation_id = "getBranchProtectionRules", params(("repository" = String, Path)),
    responses((status = 200, body = Vec<BranchProtectionRule>, headers(("ETag" = String)))))]
async fn get(engine: web::Data<Engine>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let rules = engine.branch_protection(&repo_id(&path)?).await?;
    let body: Vec<BranchProtectionRule> = rules
        .patterns
        .into_iter()
        .map(|pattern| BranchProtectionRule { pattern })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", rules.etag)))
        .json(body))
}

#[utoipa::path(put, path = "/api/v1/repositories/{repository}/settings/branch_protection", tag = "repositories",
    operation_id = "setBranchProtectionRules", params(("repository" = String, Path)),
    request_body = Vec<BranchProtectionRule>, responses((status = 204), (status = 412, body = super::error::ErrorBody)))]
async fn set(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Vec<BranchProtectionRule>>,
) -> ApiResult<HttpResponse> {
    let if_match = req
        .headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let patterns = body.into_inner().into_iter().map(|r| r.pattern).collect();
    engine
        .set_branch_protection(&repo_id(&path)?, patterns, if_match.as_deref())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
