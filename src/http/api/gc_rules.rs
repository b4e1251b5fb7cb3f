//! Garbage collection rules (retention), under both of lakeFS's paths:
//! `settings/gc_rules` and the older internal `gc/rules`.

use super::error::ApiResult;
use super::repositories::repo_id;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use tarn_domain::{Engine, GcRules};
use utoipa::ToSchema;

operations! {
    tag = "repositories";
    getGCRules: get "/repositories/{repository}/settings/gc_rules" => get,
        Requires(Action::GetGarbageCollectionRules, REPO),
        openapi(
            params(("repository" = String, Path)),
            responses((status = 200, body = GarbageCollectionRules), (status = 404, body = ErrorBody)),
        );
    setGCRules: put "/repositories/{repository}/settings/gc_rules" => set,
        Requires(Action::SetGarbageCollectionRules, REPO),
        openapi(
            params(("repository" = String, Path)),
            request_body = GarbageCollectionRules,
            responses((status = 204), (status = 400, body = ErrorBody)),
        );
    deleteGCRules: delete "/repositories/{repository}/settings/gc_rules" => delete,
        Requires(Action::SetGarbageCollectionRules, REPO),
        openapi(params(("repository" = String, Path)), responses((status = 204)));
    internalGetGarbageCollectionRules: get "/repositories/{repository}/gc/rules" => get,
        Requires(Action::GetGarbageCollectionRules, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            responses((status = 200, body = GarbageCollectionRules), (status = 404, body = ErrorBody)),
        );
    internalSetGarbageCollectionRules: post "/repositories/{repository}/gc/rules" => set,
        Requires(Action::SetGarbageCollectionRules, REPO),
        openapi(
            tag = "internal",
            params(("repository" = String, Path)),
            request_body = GarbageCollectionRules,
            responses((status = 204), (status = 400, body = ErrorBody)),
        );
    internalDeleteGarbageCollectionRules: delete "/repositories/{repository}/gc/rules" => delete,
        Requires(Action::SetGarbageCollectionRules, REPO),
        openapi(tag = "internal", params(("repository" = String, Path)), responses((status = 204)));
    setGarbageCollectionRulesPreflight: get "/repositories/{repository}/gc/rules/set_allowed" => crate::http::api::operation::allowed_by_guard,
        Requires(Action::SetGarbageCollectionRules, REPO),
        openapi(tag = "internal", params(("repository" = String, Path)), responses((status = 204)));
}

/// One branch's retention.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GarbageCollectionRule {
    branch_id: String,
    retention_days: i64,
}

/// A repository's retention rules.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GarbageCollectionRules {
    default_retention_days: i64,
    #[serde(default)]
    branches: Vec<GarbageCollectionRule>,
}

async fn get(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> ApiResult<web::Json<GarbageCollectionRules>> {
    let rules = engine.gc_rules(&repo_id(&path)?).await?;
    Ok(web::Json(GarbageCollectionRules {
        default_retention_days: i64::from(rules.default_retention_days),
        branches: rules
            .branches
            .into_iter()
            .map(|(b, d)| GarbageCollectionRule {
                branch_id: b.into_string(),
                retention_days: i64::from(d),
            })
            .collect(),
    }))
}

async fn set(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Json<GarbageCollectionRules>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let rules = GcRules::new(
        body.default_retention_days,
        body.branches
            .into_iter()
            .map(|r| (r.branch_id, r.retention_days))
            .collect(),
    )?;
    engine.set_gc_rules(&repo_id(&path)?, &rules).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(engine: web::Data<Engine>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    engine.delete_gc_rules(&repo_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
