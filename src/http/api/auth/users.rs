//! `/auth/users`: users, their groups and their policies.

use super::models::{GroupBody, PolicyBody, UserBody};
use crate::http::api::error::{ApiError, ApiResult};
use crate::http::api::models::{amount, de_opt_bool, Listing, PageQuery};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tarn_model::auth::{arn, Action, Permission};
use utoipa::ToSchema;

use super::AuthState;
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;

operations! {
    tag = "auth";
    listUsers: get "/auth/users" => list,
        Requires(Action::ListUsers, ANY),
        openapi(
            params(("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<UserBody>)),
        );
    createUser: post "/auth/users" => create,
        InHandler,
        openapi(
            request_body = UserCreation,
            responses((status = 201, body = UserBody), (status = 409, body = ErrorBody)),
        );
    getUser: get "/auth/users/{userId}" => get,
        Requires(Action::ReadUser, USER),
        openapi(params(("userId" = String, Path)), responses((status = 200, body = UserBody)));
    deleteUser: delete "/auth/users/{userId}" => delete,
        Requires(Action::DeleteUser, USER),
        openapi(params(("userId" = String, Path)), responses((status = 204)));
    listUserGroups: get "/auth/users/{userId}/groups" => groups,
        Requires(Action::ReadUser, USER),
        openapi(
            params(("userId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<GroupBody>)),
        );
    listUserPolicies: get "/auth/users/{userId}/policies" => policies,
        Requires(Action::ReadUser, USER),
        openapi(params(("userId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query),
        ("effective" = Option<bool>, Query, description = "also the policies of the user's groups")), responses((status = 200, body = Listing<PolicyBody>)));
    attachPolicyToUser: put "/auth/users/{userId}/policies/{policyId}" => attach,
        Requires(Action::AttachPolicy, USER),
        openapi(
            params(("userId" = String, Path), ("policyId" = String, Path)),
            responses((status = 201)),
        );
    detachPolicyFromUser: delete "/auth/users/{userId}/policies/{policyId}" => detach,
        Requires(Action::DetachPolicy, USER),
        openapi(
            params(("userId" = String, Path), ("policyId" = String, Path)),
            responses((status = 204)),
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

async fn create(
    req: HttpRequest,
    state: web::Data<AuthState>,
    body: web::Json<UserCreation>,
) -> ApiResult<HttpResponse> {
    super::require(
        &req,
        &[Permission::new(Action::CreateUser, arn::user(&body.id))],
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

async fn get(
    state: web::Data<AuthState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<UserBody>> {
    Ok(web::Json(state.auth.get_user(&path).await?.into()))
}

async fn delete(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    state.auth.delete_user(&path).await?;
    Ok(HttpResponse::NoContent().finish())
}

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

async fn attach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.attach_user_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::Created().finish())
}

async fn detach(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.detach_user_policy(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
