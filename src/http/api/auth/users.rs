//! `/auth/users`: users, their groups and their policies.

use super::models::{GroupBody, PolicyBody, UserBody};
use crate::http::api::error::{ApiError, ApiResult};
use crate::http::api::models::{amount, de_opt_bool, Listing, PageQuery};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tarn_model::auth::{arn, Permission};
use utoipa::ToSchema;

use super::AuthState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::http::api::resource;
    cfg.service(resource("/auth/users").get(list).post(create))
        .service(resource("/auth/users/{userId}").get(get).delete(delete))
        .service(resource("/auth/users/{userId}/groups").get(groups))
        .service(resource("/auth/users/{userId}/policies").get(policies))
        .service(
            resource("/auth/users/{userId}/policies/{policyId}")
                .put(attach)
                .delete(detach),
        );
}

/// `POST /auth/users` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserCreation {
    id: String,
    /// Invitations by e-mail are not offered (refused when true).
    #[serde(default)]
    invite_user: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/auth/users", tag = "auth", operation_id = "listUsers",
    params(("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
    responses((status = 200, body = Listing<UserBody>)))]
async fn list(
    state: web::Data<AuthState>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<UserBody>>> {
    let page = state
        .auth
        .list_users(
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, UserBody::from)))
}

#[utoipa::path(post, path = "/api/v1/auth/users", tag = "auth", operation_id = "createUser",
    request_body = UserCreation, responses((status = 201, body = UserBody), (status = 409, body = crate::http::api::error::ErrorBody)))]
async fn create(
    req: HttpRequest,
    state: web::Data<AuthState>,
    body: web::Json<UserCreation>,
) -> ApiResult<HttpResponse> {
    super::require(
        &req,
        &[Permission::new("auth:CreateUser", arn::user(&body.id))],
    )
    .await?;
    if body.invite_user == Some(true) {
        return Err(ApiError::bad_request(
            "inviting users by e-mail is not supported",
        ));
    }
    let user = state.auth.create_user(&body.id, None, None).await?;
    Ok(HttpResponse::Created().json(UserBody::from(user)))
}

#[utoipa::path(get, path = "/api/v1/auth/users/{userId}", tag = "auth", operation_id = "getUser",
    params(("userId" = String, Path)), responses((status = 200, body = UserBody)))]
async fn get(
    state: web::Data<AuthState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<UserBody>> {
    Ok(web::Json(state.auth.get_user(&path).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/auth/users/{userId}", tag = "auth", operation_id = "deleteUser",
    params(("userId" = String, Path)), responses((status = 204)))]
async fn delete(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.auth.delete_user(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/auth/users/{userId}/groups", tag = "auth", operation_id = "listUserGroups",
    params(("userId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
    responses((status = 200, body = Listing<GroupBody>)))]
async fn groups(
    state: web::Data<AuthState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<GroupBody>>> {
    let page = state
        .auth
        .list_user_groups(
            &path,
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, GroupBody::from)))
}

/// `listUserPolicies` query.
#[derive(Debug, Deserialize)]
struct PoliciesQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "de_opt_bool")]
    effective: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/auth/users/{userId}/policies", tag = "auth", operation_id = "listUserPolicies",
    params(("userId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query),
        ("effective" = Option<bool>, Query, description = "also the policies of the user's groups")),
    responses((status = 200, body = Listing<PolicyBody>)))]
async fn policies(
    state: web::Data<AuthState>,
    path: web::Path<String>,
    q: web::Query<PoliciesQuery>,
) -> ApiResult<web::Json<Listing<PolicyBody>>> {
    let page = state
        .auth
        .list_user_policies(
            &path,
            q.effective.unwrap_or(false),
            q.page.prefix.as_deref().unwrap_or(""),
            q.page.after.as_deref().unwrap_or(""),
            amount(q.page.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, PolicyBody::from)))
}

#[utoipa::path(put, path = "/api/v1/auth/users/{userId}/policies/{policyId}", tag = "auth", operation_id = "attachPolicyToUser",
    params(("userId" = String, Path), ("policyId" = String, Path)), responses((status = 201)))]
async fn attach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.attach_user_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::Created().finish())
}

#[utoipa::path(delete, path = "/api/v1/auth/users/{userId}/policies/{policyId}", tag = "auth", operation_id = "detachPolicyFromUser",
    params(("userId" = String, Path), ("policyId" = String, Path)), responses((status = 204)))]
async fn detach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.detach_user_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
