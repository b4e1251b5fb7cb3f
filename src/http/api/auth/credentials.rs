//! `/auth/users/{userId}/credentials`: access keys.

use super::models::{CredentialsBody, CredentialsWithSecret};
use super::AuthState;
use crate::http::api::error::ApiResult;
use crate::http::api::models::{amount, Listing, PageQuery};
use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::http::api::resource;
    cfg.service(
        resource("/auth/users/{userId}/credentials")
            .get(list)
            .post(create),
    )
    .service(
        resource("/auth/users/{userId}/credentials/{accessKeyId}")
            .get(get)
            .delete(delete),
    );
}

#[utoipa::path(get, path = "/api/v1/auth/users/{userId}/credentials", tag = "auth", operation_id = "listUserCredentials",
    params(("userId" = String, Path), ("prefix" = Option<String>, Query), ("after" = Option<String>, Query), ("amount" = Option<i64>, Query)),
    responses((status = 200, body = Listing<CredentialsBody>)))]
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

#[utoipa::path(post, path = "/api/v1/auth/users/{userId}/credentials", tag = "auth", operation_id = "createCredentials",
    params(("userId" = String, Path)), responses((status = 201, body = CredentialsWithSecret)))]
async fn create(state: web::Data<AuthState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let created = state.auth.create_credentials(&path, None).await?;
    Ok(HttpResponse::Created().json(CredentialsWithSecret::from(created)))
}

#[utoipa::path(get, path = "/api/v1/auth/users/{userId}/credentials/{accessKeyId}", tag = "auth", operation_id = "getCredentials",
    params(("userId" = String, Path), ("accessKeyId" = String, Path)), responses((status = 200, body = CredentialsBody)))]
async fn get(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<CredentialsBody>> {
    Ok(web::Json(
        state.auth.get_credentials(&path.0, &path.1).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/auth/users/{userId}/credentials/{accessKeyId}", tag = "auth", operation_id = "deleteCredentials",
    params(("userId" = String, Path), ("accessKeyId" = String, Path)), responses((status = 204)))]
async fn delete(
    state: web::Data<AuthState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.auth.delete_credentials(&path.0, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
