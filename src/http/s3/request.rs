//! What every gateway handler gets: the routed operation's context, the
//! resolved repository, the caller, and a way to split keys.

use super::error::{S3Error, S3Result};
use crate::http::shared::session::Principal;
use actix_web::HttpRequest;
use std::collections::BTreeMap;
use tarn_domain::auth::Auth;
use tarn_domain::{Engine, Entity, Error};
use tarn_model::auth::Permission;
use tarn_model::{BranchName, ObjectPath, RepositoryId};
use tarn_s3_protocol::ErrorCode;

/// A request after routing and authentication.
pub struct Ctx<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The HTTP request (headers).
    pub req: &'a HttpRequest,
    /// Decoded query parameters.
    pub query: &'a BTreeMap<String, String>,
    /// The authenticated caller.
    pub caller: Principal,
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
            .authorize(&self.caller.id, needed)
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

    /// `result`, unless it failed and the bucket does not exist: then
    /// `NoSuchBucket`, as S3 answers first. The repository is read only on
    /// this failure path; a request that goes on lets the engine's own read
    /// decide.
    pub async fn bucket_first<T>(&self, bucket: &str, result: S3Result<T>) -> S3Result<T> {
        if result.is_err() {
            self.repository(bucket).await?;
        }
        result
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
    let path = ObjectPath::new(path).map_err(|e| {
        let code = if path.len() > ObjectPath::MAX_LEN {
            ErrorCode::KeyTooLongError
        } else {
            ErrorCode::InvalidArgument
        };
        S3Error::new(code, e.to_string())
    })?;
    Ok((reference.to_owned(), path))
}

/// The repository a bucket names, without reading it: the engine reads it
/// anyway and reports a missing one, which maps to `NoSuchBucket`.
pub fn bucket_repository(bucket: &str) -> S3Result<RepositoryId> {
    RepositoryId::new(bucket).map_err(|_| S3Error::no_such_bucket(bucket))
}

/// Where a write to `bucket`/`key` goes: the repository and the branch the
/// key's ref names, and the path. Nothing is read; the engine's own read of
/// the repository and branch decides whether they exist (see [`write_err`]).
pub fn write_target(bucket: &str, key: &str) -> S3Result<(RepositoryId, BranchName, ObjectPath)> {
    let repo = bucket_repository(bucket)?;
    let (reference, path) = split_key(bucket, key)?;
    let branch = BranchName::new(reference).map_err(|_| S3Error::no_such_bucket(bucket))?;
    Ok((repo, branch, path))
}

/// Maps the domain errors of a write: a ref that is no branch is no bucket
/// to write to (as lakeFS); the rest as any gateway error.
pub fn write_err<'a>(bucket: &'a str, key: &'a str) -> impl Fn(Error) -> S3Error + 'a {
    move |e| match e {
        Error::NotFound {
            entity: Entity::Branch,
            ..
        } => S3Error::no_such_bucket(bucket),
        e => S3Error::from_domain(e, bucket, key),
    }
}
