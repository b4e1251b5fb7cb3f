//! ListObjects v1 and v2: keys are `<ref>/<path>`; at the bucket root the
//! branches are the common prefixes.

use super::error::{S3Error, S3Result};
use super::request::Ctx;
use super::xml::{self, to_xml};
use actix_web::HttpResponse;
use tarn_domain::{ListRequest, Listing};

/// The most keys one listing returns.
const MAX_KEYS: usize = 1000;

/// Lists `bucket`.
pub async fn list(ctx: &Ctx<'_>, bucket: &str, v2: bool) -> S3Result<HttpResponse> {
    let repo = ctx.repository(bucket).await?;
    let prefix = ctx.param("prefix").unwrap_or("").to_owned();
    let delimiter = ctx
        .param("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let max_keys = match ctx.param("max-keys") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| S3Error::invalid_argument("max-keys must be a number"))?
            .min(MAX_KEYS),
        None => MAX_KEYS,
    };
    let list_type = ctx.param("list-type");
    if list_type.is_some_and(|t| t != "1" && t != "2") {
        return Err(S3Error::invalid_argument("list-type must be 1 or 2"));
    }
    let encode = ctx.param("encoding-type") == Some("url");
    // Where to start: v2's continuation token wins over start-after; v1 uses marker.
    let start = if v2 {
        ctx.param("continuation-token").or(ctx.param("start-after"))
    } else {
        ctx.param("marker")
    }
    .filter(|s| !s.is_empty())
    .map(str::to_owned);

    let mut doc = xml::ListBucket {
        xmlns: xml::NS,
        name: bucket.to_owned(),
        prefix: prefix.clone(),
        delimiter: delimiter.clone(),
        marker: (!v2).then(|| start.clone().unwrap_or_default()),
        next_marker: None,
        start_after: if v2 {
            ctx.param("start-after").map(str::to_owned)
        } else {
            None
        },
        continuation_token: if v2 {
            ctx.param("continuation-token").map(str::to_owned)
        } else {
            None
        },
        next_continuation_token: None,
        key_count: None,
        max_keys,
        encoding_type: encode.then(|| "url".to_owned()),
        is_truncated: false,
        contents: Vec::new(),
        common_prefixes: Vec::new(),
    };
    let respond = |doc: &xml::ListBucket| {
        HttpResponse::Ok()
            .content_type("application/xml")
            .body(to_xml("ListBucketResult", doc))
    };
    if max_keys == 0 {
        // Nothing asked for: an empty page, and no token that would skip a key.
        doc.key_count = v2.then_some(0);
        return Ok(respond(&doc));
    }
    let enc = |s: &str| {
        if encode {
            urlencoding::encode(s).into_owned()
        } else {
            s.to_owned()
        }
    };
    let last_key: Option<String>;
    match prefix.split_once('/') {
        // At the root: branches are the directories.
        None => {
            let page = ctx
                .engine
                .list_branches(
                    &repo,
                    &prefix,
                    start.as_deref().map(|s| s.trim_end_matches('/')),
                    max_keys.max(1),
                )
                .await
                .map_err(|e| S3Error::from_domain(e, bucket, ""))?;
            doc.is_truncated = page.has_more;
            doc.common_prefixes = page
                .items
                .iter()
                .map(|b| xml::CommonPrefix {
                    prefix: enc(&format!("{}/", b.name)),
                })
                .collect();
            last_key = page.items.last().map(|b| format!("{}/", b.name));
        }
        Some((reference, path_prefix)) => {
            if let Some(s) = &start {
                if !s.starts_with(&format!("{reference}/"))
                    && v2
                    && ctx.param("continuation-token").is_some()
                {
                    return Err(S3Error::invalid_argument(
                        "continuation token does not match the prefix's ref",
                    ));
                }
            }
            let ref_prefix = format!("{reference}/");
            let after = match start.as_deref() {
                Some(s) if s.starts_with(&ref_prefix) => Some(s[ref_prefix.len()..].to_owned()),
                // A start past every key of this ref: nothing left to list.
                Some(s) if s > ref_prefix.as_str() => {
                    doc.key_count = v2.then_some(0);
                    return Ok(respond(&doc));
                }
                _ => None,
            };
            let request = ListRequest {
                prefix: path_prefix.to_owned(),
                after,
                amount: max_keys.max(1),
                delimiter: delimiter.clone(),
            };
            let page = ctx
                .engine
                .list_objects(&repo, reference, &request)
                .await
                .map_err(|e| S3Error::from_domain(e, bucket, &prefix))?;
            doc.is_truncated = page.has_more;
            last_key = page
                .items
                .last()
                .map(|l| format!("{reference}/{}", l.key()));
            for item in page.items {
                match item {
                    Listing::Object(path, e) => doc.contents.push(xml::Contents {
                        key: enc(&format!("{reference}/{path}")),
                        last_modified: xml::iso8601(e.last_modified.unix_micros()),
                        etag: format!("\"{}\"", e.checksum),
                        size: e.size,
                        storage_class: "STANDARD",
                    }),
                    Listing::CommonPrefix(p) => doc.common_prefixes.push(xml::CommonPrefix {
                        prefix: enc(&format!("{reference}/{p}")),
                    }),
                }
            }
        }
    }
    if doc.is_truncated {
        if v2 {
            doc.next_continuation_token = last_key;
        } else if delimiter.is_some() {
            doc.next_marker = last_key;
        }
    }
    if v2 {
        doc.key_count = Some(doc.contents.len() + doc.common_prefixes.len());
        doc.marker = None;
    }
    Ok(respond(&doc))
}
