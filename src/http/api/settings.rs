//! Repository settings: branch protection rules, with ETag / If-Match.

use super::error::ApiResult;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::Engine;
use utoipa::ToSchema;

operations! {
    tag = "repositories";
    getBranchProtectionRules: get "/repositories/{repository}/settings/branch_protection" => get,
        Requires(Action::GetBranchProtectionRules, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 200, body = Vec<BranchProtectionRule>, headers(("ETag" = String)))),
        );
    setBranchProtectionRules: put "/repositories/{repository}/settings/branch_protection" => set,
        Requires(Action::SetBranchProtectionRules, REPO),
        openapi(
            params(("repository" = String, Path)),
            request_body = Vec<BranchProtectionRule>,
            responses((status = 204), (status = 412, body = ErrorBody)),
        );
    internalGetBranchProtectionRules: get "/repositories/{repository}/branch_protection" => get,
        Requires(Action::GetBranchProtectionRules, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            responses((status = 200, body = Vec<BranchProtectionRule>)),
        );
    internalCreateBranchProtectionRule: post "/repositories/{repository}/branch_protection" => add,
        Requires(Action::SetBranchProtectionRules, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            request_body = BranchProtectionRule,
            responses((status = 204), (status = 400, body = ErrorBody)),
        );
    internalDeleteBranchProtectionRule: delete "/repositories/{repository}/branch_protection" => remove,
        Requires(Action::SetBranchProtectionRules, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            request_body = BranchProtectionRule,
            responses((status = 204), (status = 404, body = ErrorBody)),
        );
    createBranchProtectionRulePreflight: get "/repositories/{repository}/branch_protection/set_allowed" => crate::http::api::operation::allowed_by_guard,
        Requires(Action::SetBranchProtectionRules, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            responses((status = 204)),
        );
}

/// The internal API's single-rule create: adds `pattern` (kept if present).
async fn add(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<BranchProtectionRule>,
) -> ApiResult<HttpResponse> {
    engine
        .add_branch_protection(&repo_id(&path)?, &body.pattern)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The internal API's single-rule delete: 404 when no rule has `pattern`.
async fn remove(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<BranchProtectionRule>,
) -> ApiResult<HttpResponse> {
    engine
        .remove_branch_protection(&repo_id(&path)?, &body.pattern)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A branch protection rule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BranchProtectionRule {
    /// A glob (`*`, `?`) of protected branch names.
    pattern: String,
}

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
