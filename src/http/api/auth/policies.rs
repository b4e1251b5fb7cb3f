//! `/auth/policies`.

use super::models::PolicyBody;
use super::AuthState;
use crate::http::api::error::ErrorBody;
use crate::http::api::error::{ApiError, ApiResult};
use crate::http::api::models::{amount, Listing, PageQuery};
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use tarn_model::auth::{arn, Action, Permission};

operations! {
    tag = "auth";
    listPolicies: get "/auth/policies" => list,
        Requires(Action::ListPolicies, ANY),
        openapi(
            params(("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<PolicyBody>)),
        );
    createPolicy: post "/auth/policies" => create,
        InHandler,
        openapi(
            request_body = PolicyBody,
            responses((status = 201, body = PolicyBody), (status = 409, body = ErrorBody)),
        );
    getPolicy: get "/auth/policies/{policyId}" => get,
        Requires(Action::ReadPolicy, POLICY),
        openapi(params(("policyId" = String, Path)), responses((status = 200, body = PolicyBody)));
    updatePolicy: put "/auth/policies/{policyId}" => update,
        Requires(Action::UpdatePolicy, POLICY),
        openapi(
            params(("policyId" = String, Path)),
            request_body = PolicyBody,
            responses((status = 200, body = PolicyBody)),
        );
    deletePolicy: delete "/auth/policies/{policyId}" => delete,
        Requires(Action::DeletePolicy, POLICY),
        openapi(params(("policyId" = String, Path)), responses((status = 204)));
}

async fn list(
    state: web::Data<AuthState>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<PolicyBody>>> {
    let page = state
        .auth
        .list_policies(
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, PolicyBody::from)))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AuthState>,
    body: web::Json<PolicyBody>,
) -> ApiResult<HttpResponse> {
    super::require(
        &req,
        &[Permission::new(Action::CreatePolicy, arn::policy(&body.id))],
    )
    .await?;
    let body = body.into_inner();
    let id = body.id.clone();
    let policy = state.auth.create_policy(&id, body.statements()?).await?;
    Ok(HttpResponse::Created().json(PolicyBody::from(policy)))
}

async fn get(
    state: web::Data<AuthState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<PolicyBody>> {
    Ok(web::Json(state.auth.get_policy(&path).await?.into()))
}

async fn update(
    state: web::Data<AuthState>,
    path: web::Path<String>,
    body: web::Json<PolicyBody>,
) -> ApiResult<web::Json<PolicyBody>> {
    let body = body.into_inner();
    if body.id != *path {
        return Err(ApiError::bad_request(format!(
            "the policy id in the body ({}) differs from the path ({})",
            body.id, *path
        )));
    }
    let policy = state.auth.update_policy(&path, body.statements()?).await?;
    Ok(web::Json(policy.into()))
}

async fn delete(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.auth.delete_policy(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}
