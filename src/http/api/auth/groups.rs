//! `/auth/groups`: groups, their members and their policies.

use super::models::{GroupBody, PolicyBody, UserBody};
use super::AuthState;
use crate::http::api::error::ApiResult;
use crate::http::api::models::{amount, Listing, PageQuery};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tarn_model::auth::{arn, Permission};
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::http::api::resource;
    cfg.service(resource("/auth/groups").get(list).post(create))
        .service(resource("/auth/groups/{groupId}").get(get).delete(delete))
        .service(resource("/auth/groups/{groupId}/members").get(members))
        .service(
            resource("/auth/groups/{groupId}/members/{userId}")
                .put(add_member)
                .delete(remove_member),
        )
        .service(resource("/auth/groups/{groupId}/policies").get(policies))
        .service(
            resource("/auth/groups/{groupId}/policies/{policyId}")
                .put(attach)
                .delete(detach),
        );
}

/// `POST /auth/groups` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupCreation {
    id: String,
    #[serde(default)]
    description: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/auth/groups", tag = "auth", operation_id = "listGroups",
    params(("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
    responses((status = 200, body = Listing<GroupBody>)))]
async fn list(
    state: web::Data<AuthState>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<GroupBody>>> {
    let page = state
        .auth
        .list_groups(
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, GroupBody::from)))
}

#[utoipa::path(post, path = "/api/v1/auth/groups", tag = "auth", operation_id = "createGroup",
    request_body = GroupCreation, responses((status = 201, body = GroupBody), (status = 409, body = crate::http::api::error::ErrorBody)))]
async fn create(
    req: HttpRequest,
    state: web::Data<AuthState>,
    body: web::Json<GroupCreation>,
) -> ApiResult<HttpResponse> {
    super::require(
        &req,
        &[Permission::new("auth:CreateGroup", arn::group(&body.id))],
    )
    .await?;
    let body = body.into_inner();
    let group = state.auth.create_group(&body.id, body.description).await?;
    Ok(HttpResponse::Created().json(GroupBody::from(group)))
}

#[utoipa::path(get, path = "/api/v1/auth/groups/{groupId}", tag = "auth", operation_id = "getGroup",
    params(("groupId" = String, Path)), responses((status = 200, body = GroupBody)))]
async fn get(
    state: web::Data<AuthState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<GroupBody>> {
    Ok(web::Json(state.auth.get_group(&path).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/auth/groups/{groupId}", tag = "auth", operation_id = "deleteGroup",
    params(("groupId" = String, Path)), responses((status = 204)))]
async fn delete(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.auth.delete_group(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/auth/groups/{groupId}/members", tag = "auth", operation_id = "listGroupMembers",
    params(("groupId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
    responses((status = 200, body = Listing<UserBody>)))]
async fn members(
    state: web::Data<AuthState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<UserBody>>> {
    let page = state
        .auth
        .list_members(
            &path,
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, UserBody::from)))
}

#[utoipa::path(put, path = "/api/v1/auth/groups/{groupId}/members/{userId}", tag = "auth", operation_id = "addGroupMembership",
    params(("groupId" = String, Path), ("userId" = String, Path)), responses((status = 201)))]
async fn add_member(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.add_member(&path.0, &path.1).await?;
    Ok(HttpResponse::Created().finish())
}

#[utoipa::path(delete, path = "/api/v1/auth/groups/{groupId}/members/{userId}", tag = "auth", operation_id = "deleteGroupMembership",
    params(("groupId" = String, Path), ("userId" = String, Path)), responses((status = 204)))]
async fn remove_member(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.remove_member(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/auth/groups/{groupId}/policies", tag = "auth", operation_id = "listGroupPolicies",
    params(("groupId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
    responses((status = 200, body = Listing<PolicyBody>)))]
async fn policies(
    state: web::Data<AuthState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<PolicyBody>>> {
    let page = state
        .auth
        .list_group_policies(
            &path,
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, PolicyBody::from)))
}

#[utoipa::path(put, path = "/api/v1/auth/groups/{groupId}/policies/{policyId}", tag = "auth", operation_id = "attachPolicyToGroup",
    params(("groupId" = String, Path), ("policyId" = String, Path)), responses((status = 201)))]
async fn attach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.attach_group_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::Created().finish())
}

#[utoipa::path(delete, path = "/api/v1/auth/groups/{groupId}/policies/{policyId}", tag = "auth", operation_id = "detachPolicyFromGroup",
    params(("groupId" = String, Path), ("policyId" = String, Path)), responses((status = 204)))]
async fn detach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.detach_group_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
