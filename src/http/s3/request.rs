//! What every gateway handler gets: the routed operation's context, the
//! resolved repository, the caller, and a way to split keys.

use tarn_s3_protocol::ErrorCode;
use super::error::{S3Error, S3Result};
use actix_web::HttpRequest;
use std::collections::BTreeMap;
use tarn_domain::auth::Auth;
use tarn_domain::{Engine, Error};
use tarn_model::auth::{Permission, UserId};
use tarn_model::{BranchName, ObjectPath, RepositoryId};

/// A request after routing and authentication.
pub struct Ctx<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The HTTP request (headers).
    pub req: &'a HttpRequest,
    /// Decoded query parameters.
    pub query: &'a BTreeMap<String, String>,
    /// The authenticated user.
    pub user: UserId,
    /// Authorization.
    pub auth: &'a Auth,
}

impl Ctx<'_> {
    /// Refuses with `AccessDenied` unless the caller may do all of `needed`.
    pub async fn require(&self, needed: &[Permission]) -> S3Result<()> {
        if needed.is_empty() || self.allowed(needed).await? {
            Ok(())
        } else {
            Err(S3Error::new(ErrorCode::AccessDenied, "Access Denied"))
        }
    }

    /// Whether the caller may do all of `needed`.
    pub async fn allowed(&self, needed: &[Permission]) -> S3Result<bool> {
        let decision = self
            .auth
            .authorize(&self.user, needed)
            .await
            .map_err(|e| S3Error::from_domain(e, "", ""))?;
        Ok(decision.is_allowed())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The repository a bucket names; `NoSuchBucket` if none.
    pub async fn repository(&self, bucket: &str) -> S3Result<RepositoryId> {
        let id = RepositoryId::new(bucket).map_err(|_| S3Error::no_such_bucket(bucket))?;
        self.engine
            .get_repository(&id)
            .await
            .map_err(|e| S3Error::from_domain(e, bucket, ""))?;
        Ok(id)
    }
}

/// Splits a key `<ref>/<path>`.
pub fn split_key(bucket: &str, key: &str) -> S3Result<(String, ObjectPath)> {
    let (reference, path) = key.split_once('/').ok_or_else(|| {
        S3Error::new(ErrorCode::NoSuchKey, "The specified key does not exist.")
            .at(format!("/{bucket}/{key}"))
    })?;
    let path =
        ObjectPath::new(path).map_err(|e| S3Error::new(ErrorCode::KeyTooLongError, e.to_string()))?;
    Ok((reference.to_owned(), path))
}

/// The branch a write goes to: any other ref is no bucket to write to (as lakeFS).
pub async fn write_branch(
    engine: &Engine,
    repo: &RepositoryId,
    bucket: &str,
    reference: &str,
) -> S3Result<BranchName> {
    let branch = BranchName::new(reference).map_err(|_| S3Error::no_such_bucket(bucket))?;
    match engine.get_branch(repo, &branch).await {
        Ok(_) => Ok(branch),
        Err(Error::NotFound { .. }) => Err(S3Error::no_such_bucket(bucket)),
        Err(e) => Err(S3Error::from_domain(e, bucket, reference)),
    }
}
