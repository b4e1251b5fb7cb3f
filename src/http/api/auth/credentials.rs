//! `/auth/users/{userId}/credentials`: access keys.

use super::models::{CredentialsBody, CredentialsWithSecret};
use super::AuthState;
use crate::http::api::error::ApiResult;
use crate::http::api::models::{amount, Listing, PageQuery};
use crate::http::api::operation::operations;
use actix_web::{web, HttpResponse};

operations! {
    tag = "auth";
    listUserCredentials: get "/auth/users/{userId}/credentials" => list,
        Requires(Action::ListCredentials, USER),
        openapi(
            params(("userId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
            responses((status = 200, body = Listing<CredentialsBody>)),
        );
    createCredentials: post "/auth/users/{userId}/credentials" => create,
        Requires(Action::CreateCredentials, USER),
        openapi(
            params(("userId" = String, Path)),
            responses((status = 201, body = CredentialsWithSecret)),
        );
    getCredentials: get "/auth/users/{userId}/credentials/{accessKeyId}" => get,
        Requires(Action::ReadCredentials, USER),
        openapi(
            params(("userId" = String, Path), ("accessKeyId" = String, Path)),
            responses((status = 200, body = CredentialsBody)),
        );
    deleteCredentials: delete "/auth/users/{userId}/credentials/{accessKeyId}" => delete,
        Requires(Action::DeleteCredentials, USER),
        openapi(
            params(("userId" = String, Path), ("accessKeyId" = String, Path)),
            responses((status = 204)),
        );
}

async fn list(
    state: web::Data<AuthState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult<web::Json<Listing<CredentialsBody>>> {
    let page = state
        .auth
        .list_credentials(
            &path,
            q.prefix.as_deref().unwrap_or(""),
            q.after.as_deref().unwrap_or(""),
            amount(q.amount),
        )
        .await?;
    Ok(web::Json(Listing::from_page(page, CredentialsBody::from)))
}

async fn create(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let created = state.auth.create_credentials(&path, None).await?;
    Ok(HttpResponse::Created().json(CredentialsWithSecret::from(created)))
}

async fn get(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<CredentialsBody>> {
    Ok(web::Json(
        state.auth.get_credentials(&path.0, &path.1).await?.into(),
    ))
}

async fn delete(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.delete_credentials(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
