//! Authentication of API requests: HTTP Basic with an access key pair, a
//! Bearer JWT, or the `internal_auth_session` cookie set by `/auth/login`.
//!
//! Until the auth store lands (RBAC issue), Tarn has one admin user, created
//! by `--quickstart` or by `POST /setup_lakefs`, kept by this process.

use super::error::{ApiError, ApiResult};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};
use utoipa::ToSchema;

/// The session cookie's name (as lakeFS).
pub const SESSION_COOKIE: &str = "internal_auth_session";
/// How long a login token lives (lakeFS's `auth.login_duration`).
const LOGIN_SECS: u64 = 7 * 24 * 3600;

/// A user who may call the API.
#[derive(Debug, Clone)]
pub struct User {
    /// The user name.
    pub username: String,
    /// Creation time, unix seconds.
    pub created: i64,
    access_key_id: String,
    secret: String,
}

/// The authenticated caller of a request (a request extension).
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub username: String,
}

/// Credentials and token keys, shared by every worker.
pub struct AuthState {
    admin: RwLock<Option<User>>,
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

/// Constant-time comparison, so that timing tells nothing about a secret.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl AuthState {
    /// A state with no user yet. `secret_key` signs login tokens; when empty,
    /// a random key is used (tokens then die with the process).
    pub fn new(secret_key: &str) -> Self {
        let jwt_secret = if secret_key.is_empty() {
            let mut key = vec![0u8; 32];
            rand::rng().fill(&mut key[..]);
            key
        } else {
            secret_key.as_bytes().to_vec()
        };
        Self {
            admin: RwLock::new(None),
            jwt_secret,
        }
    }

    /// Whether setup has created the admin.
    pub fn is_initialized(&self) -> bool {
        self.admin.read().map(|a| a.is_some()).unwrap_or(false)
    }

    /// Creates the admin; `None` if one exists already.
    pub fn setup(&self, username: &str, key: Option<(String, String)>) -> Option<User> {
        let mut admin = self.admin.write().unwrap_or_else(|p| p.into_inner());
        if admin.is_some() {
            return None;
        }
        let (access_key_id, secret) = key.unwrap_or_else(new_key_pair);
        let user = User {
            username: username.to_owned(),
            created: now_secs() as i64,
            access_key_id,
            secret,
        };
        *admin = Some(user.clone());
        Some(user)
    }

    fn user_by_key(&self, access_key_id: &str, secret: &str) -> Option<User> {
        let admin = self.admin.read().ok()?;
        admin
            .as_ref()
            .filter(|u| u.access_key_id == access_key_id && same_secret(&u.secret, secret))
            .cloned()
    }

    /// The user and secret of an access key (for request signatures).
    pub fn secret_of(&self, access_key_id: &str) -> Option<(String, String)> {
        let admin = self.admin.read().ok()?;
        admin
            .as_ref()
            .filter(|u| u.access_key_id == access_key_id)
            .map(|u| (u.username.clone(), u.secret.clone()))
    }

    /// The user named `username`, if any.
    pub fn user(&self, username: &str) -> Option<User> {
        let admin = self.admin.read().ok()?;
        admin.as_ref().filter(|u| u.username == username).cloned()
    }

    fn issue_token(&self, user: &User) -> ApiResult<(String, u64)> {
        let iat = now_secs();
        let exp = iat + LOGIN_SECS;
        let mut jti = [0u8; 16];
        rand::rng().fill(&mut jti);
        let claims = Claims {
            sub: user.username.clone(),
            iss: "auth".into(),
            aud: "login".into(),
            iat,
            exp,
            jti: hex::encode(jti),
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.jwt_secret),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "cannot sign a login token");
            ApiError::new(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "cannot issue a token",
            )
        })?;
        Ok((token, exp))
    }

    fn verify_token(&self, token: &str) -> Option<String> {
        let mut v = Validation::new(Algorithm::HS256);
        v.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        v.set_audience(&["login"]);
        v.set_required_spec_claims(&["exp", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.jwt_secret), &v)
                .ok()?;
        self.user(&data.claims.sub).map(|u| u.username)
    }

    /// Who sent `req`, from its Basic credentials, Bearer token or session cookie.
    pub fn authenticate(&self, req: &HttpRequest) -> Option<Principal> {
        if let Some(value) = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Some(encoded) = value.strip_prefix("Basic ") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()?;
                let text = String::from_utf8(decoded).ok()?;
                let (key, secret) = text.split_once(':')?;
                return self.user_by_key(key, secret).map(|u| Principal {
                    username: u.username,
                });
            }
            if let Some(token) = value.strip_prefix("Bearer ") {
                return self
                    .verify_token(token.trim())
                    .map(|username| Principal { username });
            }
            return None;
        }
        let cookie = req.cookie(SESSION_COOKIE)?;
        self.verify_token(cookie.value())
            .map(|username| Principal { username })
    }
}

/// lakeFS-shaped credentials: `AKIAJ` + 14 base-32 characters + `Q`, and a
/// 40-character secret (base64 of 30 random bytes).
pub fn new_key_pair() -> (String, String) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let middle: String = (0..14)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let mut secret = [0u8; 30];
    rng.fill(&mut secret);
    (
        format!("AKIAJ{middle}Q"),
        base64::engine::general_purpose::STANDARD.encode(secret),
    )
}

/// The caller, as the authentication middleware recorded it.
pub fn principal(req: &HttpRequest) -> ApiResult<Principal> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(ApiError::unauthenticated)
}

/// `POST /auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
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

/// Logs in with an access key pair: a JWT, also set as the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginInformation,
    responses((status = 200, body = AuthenticationToken), (status = 401, body = super::error::ErrorBody)))]
pub async fn login(
    state: web::Data<AuthState>,
    body: web::Json<LoginInformation>,
) -> ApiResult<HttpResponse> {
    let user = state
        .user_by_key(&body.access_key_id, &body.secret_access_key)
        .ok_or_else(ApiError::unauthenticated)?;
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

/// `GET /logout`: clears the session cookie.
pub async fn logout() -> HttpResponse {
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    cookie.make_removal();
    HttpResponse::Found()
        .cookie(cookie)
        .insert_header((header::LOCATION, "/auth/login"))
        .finish()
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    id: String,
    creation_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    friendly_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

/// `GET /user` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentUser {
    user: UserBody,
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/user", tag = "auth", operation_id = "getCurrentUser",
    responses((status = 200, body = CurrentUser)))]
pub async fn current_user(
    req: HttpRequest,
    state: web::Data<AuthState>,
) -> ApiResult<web::Json<CurrentUser>> {
    let who = principal(&req)?;
    let user = state
        .user(&who.username)
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(web::Json(CurrentUser {
        user: UserBody {
            id: user.username,
            creation_date: user.created,
            friendly_name: None,
            email: None,
        },
    }))
}

/// Credentials with their secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsWithSecret {
    access_key_id: String,
    secret_access_key: String,
    creation_date: i64,
}

impl From<User> for CredentialsWithSecret {
    fn from(u: User) -> Self {
        Self {
            access_key_id: u.access_key_id,
            secret_access_key: u.secret,
            creation_date: u.created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pairs_have_aws_shape() {
        let (id, secret) = new_key_pair();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIAJ") && id.ends_with('Q'), "{id}");
        assert_eq!(secret.len(), 40);
        assert_ne!(new_key_pair().0, id);
    }

    #[test]
    fn tokens_verify_only_with_the_same_key_and_a_known_user() {
        let a = AuthState::new("one");
        let user = a.setup("admin", None).unwrap();
        assert!(a.setup("other", None).is_none(), "setup happens once");
        let (token, _) = a.issue_token(&user).unwrap();
        assert_eq!(a.verify_token(&token).as_deref(), Some("admin"));
        let b = AuthState::new("two");
        b.setup("admin", None).unwrap();
        assert_eq!(b.verify_token(&token), None, "another key rejects it");
        let mut tampered = token.clone();
        tampered.pop();
        assert_eq!(a.verify_token(&tampered), None);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
