//! Who sends a request: the authentication state both drivers hold (the
//! domain's auth service and the login-token key) and the caller it finds.
//! The API authenticates with HTTP Basic (an access key pair), a Bearer JWT
//! or the `internal_auth_session` cookie; the gateway verifies signatures
//! with the secrets this same service unseals.

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tarn_domain::auth::Auth;
use tarn_model::auth::UserId;

/// The session cookie's name (as lakeFS).
pub const SESSION_COOKIE: &str = "internal_auth_session";
/// How long a login token lives (lakeFS's `auth.login_duration`).
const LOGIN_SECS: u64 = 7 * 24 * 3600;
/// How far past its expiry a token is still taken (clock drift between
/// instances; jsonwebtoken's default).
const EXPIRY_LEEWAY_SECS: u64 = 60;

/// The authenticated caller of a request (an API request extension; the
/// gateway's context holds it too).
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub id: UserId,
}

/// The auth service and the login-token key, shared by every worker and
/// both drivers.
pub struct AuthState {
    /// The domain's auth use cases.
    pub auth: Arc<Auth>,
    /// Password logins: queued fairly, limited per source.
    pub logins: super::login_throttle::LoginThrottle,
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

impl AuthState {
    /// Login tokens are signed with `secret_key` (as lakeFS's
    /// `auth.encrypt.secret_key`), so every instance accepts every token.
    pub fn new(auth: Arc<Auth>, secret_key: &str) -> Self {
        Self {
            auth,
            logins: super::login_throttle::LoginThrottle::new(
                tarn_domain::auth::MAX_PASSWORD_CHECKS,
            ),
            jwt_secret: secret_key.as_bytes().to_vec(),
        }
    }

    fn now_secs(&self) -> u64 {
        u64::try_from(self.auth.now().unix_seconds()).unwrap_or(0)
    }

    /// A login token for `user` and its expiry (Unix seconds).
    pub fn issue_token(&self, user: &UserId) -> Result<(String, u64), jsonwebtoken::errors::Error> {
        self.issue_token_for(user, LOGIN_SECS)
    }

    /// A token for `user` that expires after `secs` seconds (what a hook
    /// acting for a user gets).
    pub fn issue_token_for(
        &self,
        user: &UserId,
        secs: u64,
    ) -> Result<(String, u64), jsonwebtoken::errors::Error> {
        let iat = self.now_secs();
        let exp = iat + secs;
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
    }

    /// The subject of a valid token whose user still exists.
    async fn verify_token(&self, token: &str) -> tarn_domain::Result<Option<UserId>> {
        let mut v = Validation::new(Algorithm::HS256);
        v.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        v.set_audience(&["login"]);
        v.set_required_spec_claims(&["exp", "sub"]);
        // Expiry is checked against the injected clock, not the system's.
        v.validate_exp = false;
        let Ok(data) =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.jwt_secret), &v)
        else {
            return Ok(None);
        };
        if data.claims.exp.saturating_add(EXPIRY_LEEWAY_SECS) < self.now_secs() {
            return Ok(None);
        }
        let user = self.auth.active_user(&data.claims.sub).await?;
        Ok(user.map(|u| u.id.clone()))
    }

    /// Who sent an API request, from its Basic credentials, Bearer token or
    /// session cookie; `None` when it carries none that are valid.
    pub async fn authenticate(&self, req: &HttpRequest) -> tarn_domain::Result<Option<Principal>> {
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
