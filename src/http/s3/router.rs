//! Routing of S3 requests, framework-free: method + path + query + headers →
//! a typed operation (lakeFS's dispatch table), before any handler runs.

use crate::http::shared::text::{percent_decode, NotUtf8};
use std::collections::BTreeMap;

/// An S3 operation the gateway serves, with its bucket and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `GET /`.
    ListBuckets,
    /// `HEAD /bucket`.
    HeadBucket(String),
    /// `GET /bucket?location`.
    GetBucketLocation(String),
    /// `GET /bucket?versioning`.
    GetBucketVersioning(String),
    /// `GET /bucket` (v1) or `?list-type=2` (v2).
    ListObjects { bucket: String, v2: bool },
    /// `GET /bucket?uploads`.
    ListMultipartUploads(String),
    /// `POST /bucket?delete`.
    DeleteObjects(String),
    /// `PUT /bucket`: buckets are repositories, created through the API.
    CreateBucket(String),
    /// `GET /bucket/key`.
    GetObject { bucket: String, key: String },
    /// `HEAD /bucket/key`.
    HeadObject { bucket: String, key: String },
    /// `GET /bucket?acl`: the canned owner-only ACL.
    GetBucketAcl(String),
    /// `PUT /bucket?acl`: only the canned private ACL (a no-op).
    PutBucketAcl(String),
    /// `GET /bucket/key?acl`: the canned owner-only ACL.
    GetObjectAcl { bucket: String, key: String },
    /// `PUT /bucket/key?acl`: only the canned private ACL (a no-op).
    PutObjectAcl { bucket: String, key: String },
    /// `GET /bucket/key?tagging`.
    GetObjectTagging { bucket: String, key: String },
    /// `PUT /bucket/key?tagging`.
    PutObjectTagging { bucket: String, key: String },
    /// `DELETE /bucket/key?tagging`.
    DeleteObjectTagging { bucket: String, key: String },
    /// `PUT /bucket/key`.
    PutObject { bucket: String, key: String },
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject { bucket: String, key: String },
    /// `DELETE /bucket/key`.
    DeleteObject { bucket: String, key: String },
    /// `POST /bucket/key?uploads`.
    CreateMultipartUpload { bucket: String, key: String },
    /// `PUT /bucket/key?uploadId&partNumber`, copying with `x-amz-copy-source`.
    UploadPart {
        bucket: String,
        key: String,
        upload_id: String,
        part: String,
        copy: bool,
    },
    /// `POST /bucket/key?uploadId`.
    CompleteMultipartUpload {
        bucket: String,
        key: String,
        upload_id: String,
    },
    /// `DELETE /bucket/key?uploadId`.
    AbortMultipartUpload {
        bucket: String,
        key: String,
        upload_id: String,
    },
    /// `GET /bucket/key?uploadId`.
    ListParts {
        bucket: String,
        key: String,
        upload_id: String,
    },
    /// `<ref>/` with no path: the root "directory" of a ref, which tools
    /// create a marker for (pyarrow's `create_dir`, S3A, s3fs `mkdir`). It
    /// always exists on an existing ref: GET and HEAD answer an empty
    /// marker, PUT of an empty body and DELETE succeed and store nothing.
    RefRoot {
        method: RootMethod,
        bucket: String,
        reference: String,
    },
    /// An S3 feature lakeFS does not offer: 405 `ERRLakeFSNotSupported`.
    NotSupported(&'static str),
    /// No such S3 resource: a bare 404.
    NotFound,
}

/// What a request does to a ref's root marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootMethod {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

/// Sub-resources that make no sense on a ref's root marker.
const ROOT_REFUSED: &[&str] = &[
    "acl",
    "tagging",
    "uploads",
    "uploadId",
    "partNumber",
    "torrent",
    "retention",
    "legal-hold",
    "select",
    "restore",
];

/// Query keys (sub-resources) the gateway refuses with 405, by method and target.
const UNSUPPORTED_BUCKET_GET: &[&str] = &[
    "inventory",
    "metrics",
    "publicAccessBlock",
    "ownershipControls",
    "intelligent-tiering",
    "analytics",
    "policy",
    "lifecycle",
    "encryption",
    "object-lock",
    "replication",
    "notification",
    "events",
    "cors",
    "website",
    "accelerate",
    "requestPayment",
    "logging",
    "tagging",
    "versions",
    "policyStatus",
];
const UNSUPPORTED_OBJECT_GET: &[&str] = &["torrent", "retention", "legal-hold", "lambdaArn"];
const UNSUPPORTED_OBJECT_PUT: &[&str] = &["torrent", "retention", "legal-hold"];
const UNSUPPORTED_OBJECT_POST: &[&str] = &["select", "restore"];
const UNSUPPORTED_OBJECT_DELETE: &[&str] = &["acl", "torrent"];

/// The bucket of a virtual-host request: the Host (port stripped) is a
/// subdomain of one of the gateway's domains.
pub fn virtual_host_bucket(host: &str, domains: &[String]) -> Option<String> {
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    domains.iter().find_map(|d| {
        let bucket = host.strip_suffix(d.as_str())?.strip_suffix('.')?;
        (!bucket.is_empty()).then(|| bucket.to_owned())
    })
}

impl Op {
    /// The S3 operation's name (for metrics and logs).
    pub fn name(&self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::HeadBucket(_) => "HeadBucket",
            Op::GetBucketLocation(_) => "GetBucketLocation",
            Op::GetBucketVersioning(_) => "GetBucketVersioning",
            Op::ListObjects { v2: true, .. } => "ListObjectsV2",
            Op::ListObjects { .. } => "ListObjects",
            Op::ListMultipartUploads(_) => "ListMultipartUploads",
            Op::DeleteObjects(_) => "DeleteObjects",
            Op::CreateBucket(_) => "CreateBucket",
            Op::GetObject { .. } => "GetObject",
            Op::HeadObject { .. } => "HeadObject",
            Op::GetBucketAcl(_) => "GetBucketAcl",
            Op::PutBucketAcl(_) => "PutBucketAcl",
            Op::GetObjectAcl { .. } => "GetObjectAcl",
            Op::PutObjectAcl { .. } => "PutObjectAcl",
            Op::GetObjectTagging { .. } => "GetObjectTagging",
            Op::PutObjectTagging { .. } => "PutObjectTagging",
            Op::DeleteObjectTagging { .. } => "DeleteObjectTagging",
            Op::PutObject { .. } => "PutObject",
            Op::CopyObject { .. } => "CopyObject",
            Op::DeleteObject { .. } => "DeleteObject",
            Op::CreateMultipartUpload { .. } => "CreateMultipartUpload",
            Op::UploadPart { copy: true, .. } => "UploadPartCopy",
            Op::UploadPart { .. } => "UploadPart",
            Op::CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            Op::AbortMultipartUpload { .. } => "AbortMultipartUpload",
            Op::ListParts { .. } => "ListParts",
            Op::RefRoot { .. } => "RefRoot",
            Op::NotSupported(_) => "NotSupported",
            Op::NotFound => "NotFound",
        }
    }
}

/// Routes a request. `path` is the decoded URL path; `bucket` is the
/// virtual-host bucket, if any.
pub fn route(
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    has_copy_source: bool,
    vhost_bucket: Option<&str>,
) -> Op {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = match vhost_bucket {
        Some(b) => (b.to_owned(), trimmed.to_owned()),
        None => match trimmed.split_once('/') {
            Some((b, k)) => (b.to_owned(), k.to_owned()),
            None => (trimmed.to_owned(), String::new()),
        },
    };
    let has = |k: &str| query.contains_key(k);
    let refused = |list: &[&'static str]| list.iter().find(|k| query.contains_key(**k)).copied();
    if bucket.is_empty() {
        return match method {
            "GET" if has("events") => Op::NotSupported("events"),
            "GET" => Op::ListBuckets,
            _ => Op::NotFound,
        };
    }
    if key.is_empty() {
        return match method {
            "GET" => {
                if has("location") {
                    Op::GetBucketLocation(bucket)
                } else if has("versioning") {
                    Op::GetBucketVersioning(bucket)
                } else if has("uploads") {
                    Op::ListMultipartUploads(bucket)
                } else if has("acl") {
                    Op::GetBucketAcl(bucket)
                } else if let Some(k) = refused(UNSUPPORTED_BUCKET_GET) {
                    Op::NotSupported(k)
                } else {
                    let v2 = query.get("list-type").map(String::as_str) == Some("2");
                    Op::ListObjects { bucket, v2 }
                }
            }
            "HEAD" if has("acl") => Op::NotSupported("acl"),
            "HEAD" => Op::HeadBucket(bucket),
            "PUT" if has("acl") => Op::PutBucketAcl(bucket),
            "PUT" => Op::CreateBucket(bucket),
            "POST" if has("delete") => Op::DeleteObjects(bucket),
            "POST" => Op::NotSupported("POST on a bucket"),
            "DELETE" => Op::NotSupported("DeleteBucket"),
            _ => Op::NotFound,
        };
    }
    // A key is `<ref>/<path>`; a bare ref is no object, and `<ref>/` is
    // the ref's root marker (plain object requests only).
    if !key.contains('/') {
        return Op::NotFound;
    }
    if let Some(reference) = key.strip_suffix('/').filter(|r| !r.contains('/')) {
        let method = match method {
            _ if ROOT_REFUSED.iter().any(|k| has(k)) => return Op::NotFound,
            "GET" => RootMethod::Get,
            "HEAD" => RootMethod::Head,
            "PUT" if !has_copy_source => RootMethod::Put,
            "DELETE" => RootMethod::Delete,
            _ => return Op::NotFound,
        };
        return Op::RefRoot {
            method,
            bucket,
            reference: reference.to_owned(),
        };
    }
    let upload_id = query.get("uploadId").cloned();
    match method {
        "GET" | "HEAD" if refused(UNSUPPORTED_OBJECT_GET).is_some() => {
            Op::NotSupported(refused(UNSUPPORTED_OBJECT_GET).unwrap_or(""))
        }
        "GET" if has("tagging") => Op::GetObjectTagging { bucket, key },
        "GET" if has("acl") => Op::GetObjectAcl { bucket, key },
        "HEAD" if has("acl") => Op::NotSupported("acl"),
        "GET" if has("versioning") => Op::GetBucketVersioning(bucket),
        "GET" => match upload_id {
            Some(upload_id) => Op::ListParts {
                bucket,
                key,
                upload_id,
            },
            None => Op::GetObject { bucket, key },
        },
        "HEAD" => Op::HeadObject { bucket, key },
        "PUT" => {
            if let Some(k) = refused(UNSUPPORTED_OBJECT_PUT) {
                return Op::NotSupported(k);
            }
            if has("tagging") {
                return Op::PutObjectTagging { bucket, key };
            }
            if has("acl") {
                return Op::PutObjectAcl { bucket, key };
            }
            match (upload_id, query.get("partNumber")) {
                (Some(upload_id), Some(part)) => Op::UploadPart {
                    bucket,
                    key,
                    upload_id,
                    part: part.clone(),
                    copy: has_copy_source,
                },
                _ if has_copy_source => Op::CopyObject { bucket, key },
                _ => Op::PutObject { bucket, key },
            }
        }
        "POST" => {
            if let Some(k) = refused(UNSUPPORTED_OBJECT_POST) {
                return Op::NotSupported(k);
            }
            if has("uploads") {
                Op::CreateMultipartUpload { bucket, key }
            } else if let Some(upload_id) = upload_id {
                Op::CompleteMultipartUpload {
                    bucket,
                    key,
                    upload_id,
                }
            } else {
                Op::NotSupported("browser POST uploads")
            }
        }
        "DELETE" => {
            if let Some(k) = refused(UNSUPPORTED_OBJECT_DELETE) {
                return Op::NotSupported(k);
            }
            if has("tagging") {
                return Op::DeleteObjectTagging { bucket, key };
            }
            match upload_id {
                Some(upload_id) => Op::AbortMultipartUpload {
                    bucket,
                    key,
                    upload_id,
                },
                None => Op::DeleteObject { bucket, key },
            }
        }
        _ => Op::NotFound,
    }
}

/// Parses a raw query string into decoded key/values (`?uploads` → `uploads=""`).
pub fn parse_query(raw: &str) -> Result<BTreeMap<String, String>, NotUtf8> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode(k, "a query parameter name")?;
            let v = decode(v, &format!("query parameter {k:?}"))?;
            Ok((k, v))
        })
        .collect()
}

/// Percent-decoding to UTF-8 (anything else is refused: see
/// [`crate::http::shared::text`]); `+` is a literal plus in S3 paths and a
/// space in queries only when form-encoded, which S3 clients do not do.
pub fn decode(s: &str, what: &str) -> Result<String, NotUtf8> {
    percent_decode(s, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> BTreeMap<String, String> {
        parse_query(s).unwrap()
    }

    fn r(method: &str, path: &str, query: &str) -> Op {
        route(method, path, &q(query), false, None)
    }

    #[test]
    fn bucket_level_dispatch() {
        assert_eq!(r("GET", "/", ""), Op::ListBuckets);
        assert_eq!(r("PUT", "/", ""), Op::NotFound);
        assert_eq!(
            r("GET", "/repo", ""),
            Op::ListObjects {
                bucket: "repo".into(),
                v2: false
            }
        );
        assert_eq!(
            r("GET", "/repo/", "list-type=2&prefix=main%2F"),
            Op::ListObjects {
                bucket: "repo".into(),
                v2: true
            }
        );
        assert_eq!(
            r("GET", "/repo", "location"),
            Op::GetBucketLocation("repo".into())
        );
        assert_eq!(
            r("GET", "/repo", "versioning"),
            Op::GetBucketVersioning("repo".into())
        );
        assert_eq!(
            r("GET", "/repo", "uploads"),
            Op::ListMultipartUploads("repo".into())
        );
        assert_eq!(r("GET", "/repo", "acl"), Op::GetBucketAcl("repo".into()));
        assert_eq!(r("PUT", "/repo", "acl"), Op::PutBucketAcl("repo".into()));
        assert_eq!(r("HEAD", "/repo", "acl"), Op::NotSupported("acl"));
        assert_eq!(r("GET", "/repo", "versions"), Op::NotSupported("versions"));
        assert_eq!(r("HEAD", "/repo", ""), Op::HeadBucket("repo".into()));
        assert_eq!(r("PUT", "/repo", ""), Op::CreateBucket("repo".into()));
        assert_eq!(
            r("POST", "/repo", "delete"),
            Op::DeleteObjects("repo".into())
        );
        assert_eq!(r("DELETE", "/repo", ""), Op::NotSupported("DeleteBucket"));
    }

    #[test]
    fn object_level_dispatch() {
        let (b, k) = ("repo".to_owned(), "main/a/b.txt".to_owned());
        assert_eq!(
            r("GET", "/repo/main/a/b.txt", ""),
            Op::GetObject {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            r("HEAD", "/repo/main/a/b.txt", ""),
            Op::HeadObject {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            r("PUT", "/repo/main/a/b.txt", ""),
            Op::PutObject {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            route("PUT", "/repo/main/a/b.txt", &q(""), true, None),
            Op::CopyObject {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            route(
                "PUT",
                "/repo/main/a/b.txt",
                &q("partNumber=2&uploadId=u"),
                true,
                None
            ),
            Op::UploadPart {
                bucket: b.clone(),
                key: k.clone(),
                upload_id: "u".into(),
                part: "2".into(),
                copy: true
            }
        );
        assert_eq!(
            r("POST", "/repo/main/a/b.txt", "uploads"),
            Op::CreateMultipartUpload {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            r("POST", "/repo/main/a/b.txt", "uploadId=u"),
            Op::CompleteMultipartUpload {
                bucket: b.clone(),
                key: k.clone(),
                upload_id: "u".into()
            }
        );
        assert_eq!(
            r("DELETE", "/repo/main/a/b.txt", "uploadId=u"),
            Op::AbortMultipartUpload {
                bucket: b.clone(),
                key: k.clone(),
                upload_id: "u".into()
            }
        );
        assert_eq!(
            r("GET", "/repo/main/a/b.txt", "uploadId=u"),
            Op::ListParts {
                bucket: b.clone(),
                key: k.clone(),
                upload_id: "u".into()
            }
        );
        assert_eq!(
            r("DELETE", "/repo/main/a/b.txt", ""),
            Op::DeleteObject {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        let bk = || (b.clone(), k.clone());
        assert_eq!(
            r("GET", "/repo/main/a/b.txt", "tagging"),
            Op::GetObjectTagging {
                bucket: bk().0,
                key: bk().1
            }
        );
        assert_eq!(
            r("PUT", "/repo/main/a/b.txt", "tagging"),
            Op::PutObjectTagging {
                bucket: bk().0,
                key: bk().1
            }
        );
        assert_eq!(
            r("DELETE", "/repo/main/a/b.txt", "tagging"),
            Op::DeleteObjectTagging {
                bucket: bk().0,
                key: bk().1
            }
        );
        assert_eq!(
            r("GET", "/repo/main/a/b.txt", "acl"),
            Op::GetObjectAcl {
                bucket: bk().0,
                key: bk().1
            }
        );
        assert_eq!(
            r("PUT", "/repo/main/a/b.txt", "acl"),
            Op::PutObjectAcl { bucket: b, key: k }
        );
        assert_eq!(
            r("HEAD", "/repo/main/a/b.txt", "acl"),
            Op::NotSupported("acl")
        );
        assert_eq!(
            r("POST", "/repo/main/a/b.txt", "select"),
            Op::NotSupported("select")
        );
        assert_eq!(
            r("POST", "/repo/main/a/b.txt", ""),
            Op::NotSupported("browser POST uploads")
        );
        assert_eq!(r("GET", "/repo/main", ""), Op::NotFound);
        let root = |method| Op::RefRoot {
            method,
            bucket: "repo".into(),
            reference: "main".into(),
        };
        assert_eq!(r("GET", "/repo/main/", ""), root(RootMethod::Get));
        assert_eq!(r("PUT", "/repo/main/", ""), root(RootMethod::Put));
        assert_eq!(r("HEAD", "/repo/main/", ""), root(RootMethod::Head));
        assert_eq!(r("DELETE", "/repo/main/", ""), root(RootMethod::Delete));
        assert_eq!(r("PUT", "/repo/main/", "tagging"), Op::NotFound);
        assert_eq!(r("POST", "/repo/main/", "uploads"), Op::NotFound);
    }

    #[test]
    fn virtual_host_addressing() {
        let domains = vec!["s3.local.lakefs.io".to_owned()];
        assert_eq!(
            virtual_host_bucket("repo.s3.local.lakefs.io:8000", &domains).as_deref(),
            Some("repo")
        );
        assert_eq!(virtual_host_bucket("s3.local.lakefs.io", &domains), None);
        assert_eq!(virtual_host_bucket("example.com", &domains), None);
        assert_eq!(
            route("GET", "/main/x.csv", &q(""), false, Some("repo")),
            Op::GetObject {
                bucket: "repo".into(),
                key: "main/x.csv".into()
            }
        );
        assert_eq!(
            route("GET", "/", &q(""), false, Some("repo")),
            Op::ListObjects {
                bucket: "repo".into(),
                v2: false
            }
        );
    }

    #[test]
    fn queries_decode_and_keep_valueless_keys() {
        let m = q("uploads&prefix=a%2Fb&x=1%2B1");
        assert_eq!(m.get("uploads").map(String::as_str), Some(""));
        assert_eq!(m.get("prefix").map(String::as_str), Some("a/b"));
        assert_eq!(m.get("x").map(String::as_str), Some("1+1"));
    }
}
