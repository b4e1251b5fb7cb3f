//! `/auth/groups`: groups, their members and their policies.

use super::models::{GroupBody, PolicyBody, UserBody};
use super::AuthState;
use crate::http::api::error::ApiResult;
use crate::http::api::error::ErrorBody;
use crate::http::api::models::{amount, Listing, PageQuery};
use crate::http::api::operation::operations;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tarn_model::auth::{arn, Action, Permission};
use utoipa::ToSchema;

operations! {
    tag = "auth";
    listGroups: get "/auth/groups" => list,
        Requires(Action::ListGroups, ANY),
        openapi(
            params(("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<GroupBody>)),
        );
    createGroup: post "/auth/groups" => create,
        InHandler,
        openapi(
            request_body = GroupCreation,
            responses((status = 201, body = GroupBody), (status = 409, body = ErrorBody)),
        );
    getGroup: get "/auth/groups/{groupId}" => get,
        Requires(Action::ReadGroup, GROUP),
        openapi(params(("groupId" = String, Path)), responses((status = 200, body = GroupBody)));
    deleteGroup: delete "/auth/groups/{groupId}" => delete,
        Requires(Action::DeleteGroup, GROUP),
        openapi(params(("groupId" = String, Path)), responses((status = 204)));
    listGroupMembers: get "/auth/groups/{groupId}/members" => members,
        Requires(Action::ReadGroup, GROUP),
        openapi(
            params(("groupId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<UserBody>)),
        );
    addGroupMembership: put "/auth/groups/{groupId}/members/{userId}" => add_member,
        Requires(Action::AddGroupMember, GROUP),
        openapi(
            params(("groupId" = String, Path), ("userId" = String, Path)),
            responses((status = 201)),
        );
    deleteGroupMembership: delete "/auth/groups/{groupId}/members/{userId}" => remove_member,
        Requires(Action::RemoveGroupMember, GROUP),
        openapi(
            params(("groupId" = String, Path), ("userId" = String, Path)),
            responses((status = 204)),
        );
    listGroupPolicies: get "/auth/groups/{groupId}/policies" => policies,
        Requires(Action::ReadGroup, GROUP),
        openapi(
            params(("groupId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<PolicyBody>)),
        );
    attachPolicyToGroup: put "/auth/groups/{groupId}/policies/{policyId}" => attach,
        Requires(Action::AttachPolicy, GROUP),
        openapi(
            params(("groupId" = String, Path), ("policyId" = String, Path)),
            responses((status = 201)),
        );
    detachPolicyFromGroup: delete "/auth/groups/{groupId}/policies/{policyId}" => detach,
        Requires(Action::DetachPolicy, GROUP),
        openapi(
            params(("groupId" = String, Path), ("policyId" = String, Path)),
            responses((status = 204)),
        );
}

/// `POST /auth/groups` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupCreation {
    id: String,
    #[serde(default)]
    description: Option<String>,
}

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

async fn create(
    req: HttpRequest,
    state: web::Data<AuthState>,
    body: web::Json<GroupCreation>,
) -> ApiResult<HttpResponse> {
    super::require(
        &req,
        &[Permission::new(Action::CreateGroup, arn::group(&body.id))],
    )
    .await?;
    let body = body.into_inner();
    let group = state.auth.create_group(&body.id, body.description).await?;
    Ok(HttpResponse::Created().json(GroupBody::from(group)))
}

async fn get(
    state: web::Data<AuthState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<GroupBody>> {
    Ok(web::Json(state.auth.get_group(&path).await?.into()))
}

async fn delete(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.auth.delete_group(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

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

async fn add_member(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.add_member(&path.0, &path.1).await?;
    Ok(HttpResponse::Created().finish())
}

async fn remove_member(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.remove_member(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}

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

async fn attach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.attach_group_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::Created().finish())
}

async fn detach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.detach_group_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
