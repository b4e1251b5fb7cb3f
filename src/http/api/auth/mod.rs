//! Authentication of API requests (HTTP Basic with an access key pair, a
//! Bearer JWT, or the `internal_auth_session` cookie set by `/auth/login`),
//! authorization helpers, and the lakeFS auth API: one file per resource.

pub(super) mod credentials;
pub(super) mod groups;
mod models;
pub(super) mod policies;
pub(super) mod users;

pub use crate::http::shared::session::{AuthState, Principal, SESSION_COOKIE};
pub use models::CredentialsWithSecret;

use super::error::{ApiError, ApiResult};
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use models::UserBody;
use serde::{Deserialize, Serialize};
use tarn_model::auth::{Decision, Permission, UserId};
use utoipa::ToSchema;

operations! {
    tag = "auth";
    /// Logs in with an access key pair (or a user name and password): a JWT,
    /// also set as the session cookie.
    login: post "/auth/login" => login,
        Public,
        openapi(
            request_body = LoginInformation,
            responses((status = 200, body = AuthenticationToken), (status = 401, body = ErrorBody)),
        );
    /// The caller.
    getCurrentUser: get "/user" => current_user,
        Authenticated,
        openapi(responses((status = 200, body = CurrentUser)));
    getAuthCapabilities: get "/auth/capabilities" => capabilities,
        Public,
        openapi(tag = "internal", responses((status = 200, body = AuthCapabilities)));
}

/// The caller, as the authentication middleware recorded it.
pub fn principal(req: &HttpRequest) -> ApiResult<Principal> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(ApiError::unauthenticated)
}

/// The engine, telling hooks that its operations come from the caller.
pub fn acting(req: &HttpRequest, engine: &tarn_domain::Engine) -> ApiResult<tarn_domain::Engine> {
    Ok(engine.acting_as(principal(req)?.id.as_str()))
}

fn state(req: &HttpRequest) -> ApiResult<web::Data<AuthState>> {
    req.app_data::<web::Data<AuthState>>()
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no auth state"))
}

/// Whether the caller may do everything in `required`.
pub async fn allowed(req: &HttpRequest, required: &[Permission]) -> ApiResult<bool> {
    let who = principal(req)?;
    let decision = state(req)?.auth.authorize(&who.id, required).await?;
    Ok(decision == Decision::Allowed)
}

/// Refuses the request (403) unless the caller may do everything in `required`.
pub async fn require(req: &HttpRequest, required: &[Permission]) -> ApiResult<()> {
    if allowed(req, required).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// `POST /auth/login` body (no `Debug`: it holds a secret).
#[derive(Deserialize, ToSchema)]
pub struct LoginInformation {
    access_key_id: String,
    secret_access_key: String,
}

/// A login token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticationToken {
    token: String,
    token_expiration: u64,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AuthState>,
    body: web::Json<LoginInformation>,
) -> ApiResult<HttpResponse> {
    let (id, secret) = (&body.access_key_id, &body.secret_access_key);
    let user = match state.auth.authenticate_key(id, secret).await? {
        Some(user) => user,
        None => password_login(&req, &state, id, secret).await?,
    };
    let (token, exp) = state.issue_token(&user).map_err(|e| {
        tracing::error!(error = %e, "cannot sign a login token");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot issue a token")
    })?;
    let cookie = Cookie::build(SESSION_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    Ok(HttpResponse::Ok().cookie(cookie).json(AuthenticationToken {
        token,
        token_expiration: exp,
    }))
}

/// A login with a user name and password, through the login throttle (see
/// `shared::login_throttle`): a flood costs its sender, not other users.
async fn password_login(
    req: &HttpRequest,
    state: &AuthState,
    name: &str,
    password: &str,
) -> ApiResult<UserId> {
    use crate::http::shared::login_throttle::Refusal;
    let source = req
        .peer_addr()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let mut turn = state.logins.turn(source).await.map_err(|r| match r {
        Refusal::SourceBusy => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many logins at once from your address; retry in a moment",
        ),
        Refusal::QueueFull => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many password logins at once; retry in a moment",
        ),
    })?;
    let user = state.auth.authenticate_password(name, password).await;
    turn.hashed();
    match user? {
        Some(user) => {
            state.logins.succeeded(source);
            Ok(user)
        }
        None => {
            // Answered late, holding this source's place but no slot.
            tokio::time::sleep(state.logins.failed(source)).await;
            Err(ApiError::unauthenticated())
        }
    }
}

/// `GET /logout`: clears the session cookie — when a person navigates there
/// or the UI asks, not when a page embeds it (`<img src="/logout">` in a
/// previewed document must not log the viewer out).
pub async fn logout(req: HttpRequest) -> HttpResponse {
    let dest = req
        .headers()
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("document");
    if dest != "document" && dest != "empty" {
        return HttpResponse::NoContent().finish();
    }
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    cookie.make_removal();
    HttpResponse::Found()
        .cookie(cookie)
        .insert_header((header::LOCATION, "/auth/login"))
        .finish()
}

/// `GET /user` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentUser {
    user: UserBody,
}

pub async fn current_user(
    req: HttpRequest,
    state: web::Data<AuthState>,
) -> ApiResult<web::Json<CurrentUser>> {
    let who = principal(&req)?;
    let user = state
        .auth
        .active_user(who.id.as_str())
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(web::Json(CurrentUser {
        user: UserBody::from(user.as_ref().clone()),
    }))
}

/// What the auth service offers besides keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthCapabilities {
    invite_user: bool,
    forgot_password: bool,
}

async fn capabilities() -> web::Json<AuthCapabilities> {
    web::Json(AuthCapabilities {
        invite_user: false,
        forgot_password: false,
    })
}
