//! Buckets are repositories: ListBuckets, HeadBucket, GetBucketLocation,
//! GetBucketVersioning, and CreateBucket's refusal.

use super::error::{S3Error, S3Result};
use super::request::Ctx;
use super::xml::{self, to_xml};
use crate::http::shared::visibility::visible_repositories;
use actix_web::HttpResponse;
use tarn_s3_protocol::ErrorCode;

/// ListBuckets: every repository the caller may read (as the API's
/// listing), paged internally.
pub async fn list(ctx: &Ctx<'_>) -> S3Result<HttpResponse> {
    let prefix = ctx.param("prefix").unwrap_or("");
    let mut buckets = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = visible_repositories(
            ctx.engine,
            ctx.auth,
            &ctx.caller.id,
            prefix,
            after.as_deref(),
            tarn_domain::MAX_AMOUNT,
            |_| true,
        )
        .await
        .map_err(|e| S3Error::from_domain(e, "", ""))?;
        for r in page.items {
            buckets.push(xml::Bucket {
                name: r.id.to_string(),
                creation_date: xml::iso8601(r.creation_date.unix_micros()),
            });
        }
        if !page.has_more {
            break;
        }
        after = Some(page.next_offset);
    }
    let doc = xml::ListAllMyBuckets {
        xmlns: xml::NS,
        owner: xml::Owner {
            id: ctx.caller.id.to_string(),
            display_name: ctx.caller.id.to_string(),
        },
        buckets: xml::Buckets { bucket: buckets },
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("ListAllMyBucketsResult", &doc)))
}

/// HeadBucket.
pub async fn head(ctx: &Ctx<'_>, bucket: &str) -> S3Result<HttpResponse> {
    ctx.repository(bucket).await?;
    Ok(HttpResponse::Ok().finish())
}

/// GetBucketLocation: empty for us-east-1, else the region.
pub async fn location(ctx: &Ctx<'_>, bucket: &str, region: &str) -> S3Result<HttpResponse> {
    ctx.repository(bucket).await?;
    let value = if region == "us-east-1" { "" } else { region };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
        xml::NS,
        super::error::escape(value)
    );
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(body))
}

/// GetBucketVersioning: never enabled.
pub async fn versioning(ctx: &Ctx<'_>, bucket: &str) -> S3Result<HttpResponse> {
    ctx.repository(bucket).await?;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration xmlns=\"{}\"/>",
        xml::NS
    );
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(body))
}

/// CreateBucket: 409 if the repository exists, else 501 (create it through the API).
pub async fn create(ctx: &Ctx<'_>, bucket: &str) -> S3Result<HttpResponse> {
    match ctx.repository(bucket).await {
        Ok(_) => Err(S3Error::new(
            ErrorCode::BucketAlreadyExists,
            "The requested bucket name is not available.",
        )
        .at(format!("/{bucket}"))),
        Err(_) => Err(S3Error::new(
            ErrorCode::NotImplemented,
            "Buckets are repositories: create one through the API.",
        )
        .at(format!("/{bucket}"))),
    }
}
