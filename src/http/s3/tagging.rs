//! Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging,
//! and the `x-amz-tagging` header of writes. Tags live in the entry, so they
//! are versioned with it: committed, diffed, merged, on every block store.

use super::error::{s3_err, S3Error, S3Result};
use super::request::{bucket_repository, split_key, write_err, write_target, Ctx};
use super::xml::{self, to_xml};
use crate::http::shared::text::percent_decode;
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_s3_protocol::ErrorCode;

/// S3's limits: at most 10 tags, keys of 1 to 128 characters, values of at
/// most 256, no key twice, none in the reserved `aws:` namespace.
const MAX_TAGS: usize = 10;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// `Tagging`, as read and written.
#[derive(Debug, Serialize, Deserialize)]
pub struct Tagging {
    #[serde(rename = "@xmlns", default, skip_deserializing)]
    xmlns: &'static str,
    #[serde(rename = "TagSet", default)]
    tag_set: TagSet,
}

/// `TagSet`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TagSet {
    #[serde(rename = "Tag", default)]
    tags: Vec<Tag>,
}

/// One `Tag`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value", default)]
    value: String,
}

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::new(ErrorCode::InvalidTag, message)
}

/// Checks S3's rules on a tag set given as pairs, in order.
fn validated(pairs: Vec<(String, String)>) -> S3Result<BTreeMap<String, String>> {
    if pairs.len() > MAX_TAGS {
        return Err(invalid(format!(
            "Object tags cannot be greater than {MAX_TAGS}"
        )));
    }
    let mut tags = BTreeMap::new();
    for (key, value) in pairs {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(invalid(format!(
                "The TagKey you have provided is invalid: {key:?} (1 to {MAX_KEY_CHARS} characters)"
            )));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "The TagValue you have provided is invalid: at most {MAX_VALUE_CHARS} characters"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid(
                "Your TagKey cannot be prefixed with aws: (a reserved namespace)",
            ));
        }
        if tags.insert(key.clone(), value).is_some() {
            return Err(invalid(format!(
                "Cannot provide multiple Tags with the same key: {key:?}"
            )));
        }
    }
    Ok(tags)
}

/// The tags of `x-amz-tagging` (a form-encoded query string), if sent.
pub fn header_tags(ctx: &Ctx<'_>) -> S3Result<Option<BTreeMap<String, String>>> {
    let Some(raw) = ctx.header("x-amz-tagging") else {
        return Ok(None);
    };
    let decode = |s: &str| {
        percent_decode(&s.replace('+', " "), "x-amz-tagging")
            .map_err(|e| S3Error::invalid_argument(e.to_string()))
    };
    let mut pairs = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push((decode(k)?, decode(v)?));
    }
    validated(pairs).map(Some)
}

/// The `x-amz-tagging-count` of an entry's tags, when it has any.
pub fn count_header(tags: &BTreeMap<String, String>) -> Option<(&'static str, String)> {
    (!tags.is_empty()).then(|| ("x-amz-tagging-count", tags.len().to_string()))
}

/// GetObjectTagging: the tag set of the object at any ref.
pub async fn get(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let repo = bucket_repository(bucket)?;
    let (reference, path) = ctx.bucket_first(bucket, split_key(bucket, key)).await?;
    let entry = ctx
        .engine
        .stat_object(&repo, &reference, &path)
        .await
        .map_err(s3_err(bucket, key))?;
    let doc = Tagging {
        xmlns: xml::NS,
        tag_set: TagSet {
            tags: entry
                .tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
        },
    };
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .body(to_xml("Tagging", &doc)))
}

/// PutObjectTagging: replaces the tag set of the object on a branch.
pub async fn put(ctx: &Ctx<'_>, bucket: &str, key: &str, body: &[u8]) -> S3Result<HttpResponse> {
    let (repo, branch, path) = ctx.bucket_first(bucket, write_target(bucket, key)).await?;
    let text =
        std::str::from_utf8(body).map_err(|_| S3Error::malformed_xml("body is not UTF-8"))?;
    let doc: Tagging =
        quick_xml::de::from_str(text).map_err(|e| S3Error::malformed_xml(e.to_string()))?;
    let pairs = doc
        .tag_set
        .tags
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    let tags = validated(pairs)?;
    ctx.engine
        .set_object_tags(&repo, &branch, &path, tags)
        .await
        .map_err(write_err(bucket, key))?;
    Ok(HttpResponse::Ok().finish())
}

/// DeleteObjectTagging: removes every tag of the object on a branch.
pub async fn delete(ctx: &Ctx<'_>, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let (repo, branch, path) = ctx.bucket_first(bucket, write_target(bucket, key)).await?;
    ctx.engine
        .set_object_tags(&repo, &branch, &path, BTreeMap::new())
        .await
        .map_err(write_err(bucket, key))?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn s3_limits_are_enforced() {
        assert_eq!(validated(pairs(&[("a", "1"), ("b", "")])).unwrap().len(), 2);
        let eleven: Vec<_> = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validated(eleven).is_err());
        assert!(validated(pairs(&[("", "v")])).is_err());
        assert!(validated(pairs(&[(&"k".repeat(129), "v")])).is_err());
        assert!(validated(pairs(&[("k", &"v".repeat(257))])).is_err());
        assert!(validated(pairs(&[("k", "1"), ("k", "2")])).is_err());
        assert!(validated(pairs(&[("AWS:owner", "x")])).is_err());
        assert!(validated(pairs(&[("é".repeat(128).as_str(), "ü")])).is_ok());
    }

    #[test]
    fn tagging_documents_parse() {
        let doc: Tagging = quick_xml::de::from_str(
            r#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></TagSet></Tagging>"#,
        )
        .unwrap();
        let got: Vec<_> = doc
            .tag_set
            .tags
            .iter()
            .map(|t| (&*t.key, &*t.value))
            .collect();
        assert_eq!(got, [("a", "1"), ("b", "")]);
        let empty: Tagging = quick_xml::de::from_str("<Tagging><TagSet/></Tagging>").unwrap();
        assert!(empty.tag_set.tags.is_empty());
    }
}
