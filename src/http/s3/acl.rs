//! ACLs: Tarn authorizes with policies, not ACLs, so every bucket and object
//! has the canned `private` ACL (the owner has FULL_CONTROL). Get*Acl answers
//! it; Put*Acl accepts what leaves it as it is (the canned `private`, or a
//! policy granting FULL_CONTROL to one canonical user, as s3cmd sends back)
//! and refuses any other grant with `NotImplemented`.

use super::error::{s3_err, S3Error, S3Result};
use super::request::{bucket_repository, split_key, Ctx};
use super::xml::NS;
use actix_web::HttpResponse;
use quick_xml::escape::escape;
use serde::Deserialize;
use tarn_s3_protocol::ErrorCode;

/// Canned ACLs that mean "only the owner": `private`, and the two that name
/// the bucket owner (the same principal here).
const PRIVATE_CANNED: &[&str] = &["private", "bucket-owner-full-control", "bucket-owner-read"];

/// The canned owner-only policy, for the caller as owner.
fn owner_only(ctx: &Ctx<'_>) -> HttpResponse {
    let id = escape(ctx.caller.id.as_str()).into_owned();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <AccessControlPolicy xmlns=\"{NS}\"><Owner><ID>{id}</ID><DisplayName>{id}</DisplayName></Owner>\
         <AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\
         <ID>{id}</ID><DisplayName>{id}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>\
         </AccessControlList></AccessControlPolicy>"
    );
    HttpResponse::Ok()
        .content_type("application/xml")
        .body(body)
}

fn not_implemented(what: &str) -> S3Error {
    S3Error::new(
        ErrorCode::NotImplemented,
        format!("{what}: Tarn keeps every bucket and object private and authorizes with policies"),
    )
}

#[derive(Debug, Deserialize)]
struct Policy {
    #[serde(rename = "AccessControlList", default)]
    list: GrantList,
}

#[derive(Debug, Default, Deserialize)]
struct GrantList {
    #[serde(rename = "Grant", default)]
    grants: Vec<Grant>,
}

#[derive(Debug, Deserialize)]
struct Grant {
    #[serde(rename = "Grantee")]
    grantee: Grantee,
    #[serde(rename = "Permission")]
    permission: String,
}

#[derive(Debug, Deserialize)]
struct Grantee {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "URI", default)]
    uri: Option<String>,
    #[serde(rename = "EmailAddress", default)]
    email: Option<String>,
}

/// Whether a Put*Acl request leaves the ACL owner-only.
fn keeps_private(ctx: &Ctx<'_>, body: &[u8]) -> S3Result<()> {
    let grant_headers = ctx
        .req
        .headers()
        .keys()
        .any(|h| h.as_str().starts_with("x-amz-grant-"));
    if grant_headers {
        return Err(not_implemented("x-amz-grant-* headers"));
    }
    if let Some(canned) = ctx.header("x-amz-acl") {
        if !PRIVATE_CANNED.contains(&canned.trim()) {
            return Err(not_implemented(&format!("the canned ACL {canned:?}")));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let text =
        std::str::from_utf8(body).map_err(|_| S3Error::malformed_xml("body is not UTF-8"))?;
    let policy: Policy =
        quick_xml::de::from_str(text).map_err(|e| S3Error::malformed_xml(e.to_string()))?;
    let only_owner = policy.list.grants.iter().all(|g| {
        let (user, full) = g.user_grant();
        user.is_some() && full
    });
    let ids: std::collections::BTreeSet<&str> = policy
        .list
        .grants
        .iter()
        .filter_map(|g| g.grantee.id.as_deref())
        .collect();
    if !only_owner || ids.len() > 1 {
        return Err(not_implemented(
            "grants other than the owner's FULL_CONTROL",
        ));
    }
    Ok(())
}

impl Grant {
    /// `(the canonical user granted, if that is the grantee; FULL_CONTROL?)`.
    fn user_grant(&self) -> (Option<&str>, bool) {
        let g = &self.grantee;
        let user =
            g.id.as_deref()
                .filter(|_| g.uri.is_none() && g.email.is_none());
        (user, self.permission.trim() == "FULL_CONTROL")
    }
}

/// GetBucketAcl.
pub async fn get_bucket(ctx: &Ctx<'_>, bucket: &str) -> S3Result<HttpResponse> {
    ctx.repository(bucket).await?;
    Ok(owner_only(ctx))
}

/// PutBucketAcl.
pub async fn put_bucket(ctx: &Ctx<'_>, bucket: &str, body: &[u8]) -> S3Result<HttpResponse> {
    ctx.repository(bucket).await?;
    keeps_private(ctx, body)?;
    Ok(HttpResponse::Ok().finish())
}

/// GetObjectAcl: the object must exist at the ref.
pub async fn get_object(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let repo = bucket_repository(bucket)?;
    let (reference, path) = ctx.bucket_first(bucket, split_key(bucket, key)).await?;
    ctx.engine
        .stat_object(&repo, &reference, &path)
        .await
        .map_err(s3_err(bucket, key))?;
    Ok(owner_only(ctx))
}

/// PutObjectAcl: the object must exist at the ref; nothing changes.
pub async fn put_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> S3Result<HttpResponse> {
    let repo = bucket_repository(bucket)?;
    let (reference, path) = ctx.bucket_first(bucket, split_key(bucket, key)).await?;
    ctx.engine
        .stat_object(&repo, &reference, &path)
        .await
        .map_err(s3_err(bucket, key))?;
    keeps_private(ctx, body)?;
    Ok(HttpResponse::Ok().finish())
}
