//! Authentication of API requests (HTTP Basic with an access key pair, a
//! Bearer JWT, or the `internal_auth_session` cookie set by `/auth/login`),
//! authorization helpers, and the lakeFS auth API: one file per resource.

pub(super) mod credentials;
pub(super) mod groups;
mod models;
pub(super) mod policies;
pub(super) mod users;

pub use models::CredentialsWithSecret;

use super::error::{ApiError, ApiResult};
use crate::http::api::error::ErrorBody;
use crate::http::api::operation::operations;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use models::UserBody;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tarn_domain::auth::Auth;
use tarn_model::auth::{Decision, Permission, UserId};
use utoipa::ToSchema;

/// The session cookie's name (as lakeFS).
pub const SESSION_COOKIE: &str = "internal_auth_session";
/// How long a login token lives (lakeFS's `auth.login_duration`).
const LOGIN_SECS: u64 = 7 * 24 * 3600;

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

/// The authenticated caller of a request (a request extension).
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub id: UserId,
}

/// The auth service and the login-token key, shared by every worker.
pub struct AuthState {
    /// The domain's auth use cases.
    pub auth: Arc<Auth>,
    jwt_secret: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl AuthState {
    /// Login tokens are signed with `secret_key` (as lakeFS's
    /// `auth.encrypt.secret_key`), so every instance accepts every token.
    pub fn new(auth: Arc<Auth>, secret_key: &str) -> Self {
        Self {
            auth,
            jwt_secret: secret_key.as_bytes().to_vec(),
        }
    }

    fn issue_token(&self, user: &UserId) -> ApiResult<(String, u64)> {
        let iat = now_secs();
        let exp = iat + LOGIN_SECS;
        let mut jti = [0u8; 16];
        rand::rng().fill(&mut jti);
        let claims = Claims {
            sub: user.as_str().to_owned(),
            iss: "auth".into(),
            aud: "login".into(),
            iat,
            exp,
            jti: hex::encode(jti),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.jwt_secret),
        )
        .map(|t| (t, exp))
        .map_err(|e| {
            tracing::error!(error = %e, "cannot sign a login token");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot issue a token")
        })
    }

    /// The subject of a valid token whose user still exists.
    async fn verify_token(&self, token: &str) -> ApiResult<Option<UserId>> {
        let mut v = Validation::new(Algorithm::HS256);
        v.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        v.set_audience(&["login"]);
        v.set_required_spec_claims(&["exp", "sub"]);
        let Ok(data) =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.jwt_secret), &v)
        else {
            return Ok(None);
        };
        let user = self.auth.active_user(&data.claims.sub).await?;
        Ok(user.map(|u| u.id.clone()))
    }

    /// Who sent `req`, from its Basic credentials, Bearer token or session
    /// cookie; `None` when it carries none that are valid.
    pub async fn authenticate(&self, req: &HttpRequest) -> ApiResult<Option<Principal>> {
        let user = if let Some(value) = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Some(encoded) = value.strip_prefix("Basic ") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok());
                match decoded.as_deref().and_then(|t| t.split_once(':')) {
                    Some((key, secret)) => self.auth.authenticate_key(key, secret).await?,
                    None => None,
                }
            } else if let Some(token) = value.strip_prefix("Bearer ") {
                self.verify_token(token.trim()).await?
            } else {
                None
            }
        } else if let Some(cookie) = req.cookie(SESSION_COOKIE) {
            self.verify_token(cookie.value()).await?
        } else {
            None
        };
        Ok(user.map(|id| Principal { id }))
    }
}

/// The caller, as the authentication middleware recorded it.
pub fn principal(req: &HttpRequest) -> ApiResult<Principal> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(ApiError::unauthenticated)
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
    state: web::Data<AuthState>,
    body: web::Json<LoginInformation>,
) -> ApiResult<HttpResponse> {
    let (id, secret) = (&body.access_key_id, &body.secret_access_key);
    let user = match state.auth.authenticate_key(id, secret).await? {
        Some(user) => user,
        None => state
            .auth
            .authenticate_password(id, secret)
            .await?
            .ok_or_else(ApiError::unauthenticated)?,
    };
    let (token, exp) = state.issue_token(&user)?;
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
