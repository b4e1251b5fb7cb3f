//! What each gateway operation needs (reference §3.3's permission column):
//! checked after authentication and before anything about the repository is
//! looked up, so a refused caller learns nothing, not even whether it exists.

use super::error::{S3Error, S3Result};
use super::router::{Op, RootMethod};
use std::collections::BTreeMap;
use tarn_model::auth::{Action, Permission};

use tarn_model::auth::arn::repository as repo;

/// The ARN of the object a gateway key `<ref>/<path>` names.
pub fn object(bucket: &str, key: &str) -> String {
    let path = key.split_once('/').map_or("", |(_, p)| p);
    tarn_model::auth::arn::object(bucket, path)
}

/// The permissions `op` needs before it runs. `copy_source` is the decoded
/// `(bucket, key)` of `x-amz-copy-source`, when the request has one.
/// DeleteObjects is checked per key in its handler; ListBuckets filters.
pub fn required(
    op: &Op,
    query: &BTreeMap<String, String>,
    copy_source: Option<(&str, &str)>,
) -> S3Result<Vec<Permission>> {
    let p = Permission::new;
    let read_source = || -> S3Result<Permission> {
        let (b, k) = copy_source.ok_or_else(|| {
            S3Error::invalid_argument("Copy Source must mention the source bucket and key")
        })?;
        Ok(p(Action::ReadObject, object(b, k)))
    };
    Ok(match op {
        Op::ListBuckets => vec![p(Action::ListRepositories, "*".to_owned())],
        Op::HeadBucket(b) | Op::GetBucketLocation(b) | Op::GetBucketVersioning(b) => {
            vec![p(Action::ReadRepository, repo(b))]
        }
        Op::ListObjects { bucket, .. } => {
            let prefix = query.get("prefix").map_or("", String::as_str);
            let delimiter = query.get("delimiter").map_or("", String::as_str);
            // Listing the top level with "/" lists branches (as lakeFS).
            if delimiter == "/" && !prefix.contains('/') {
                vec![p(Action::ListBranches, repo(bucket))]
            } else {
                vec![p(Action::ListObjects, repo(bucket))]
            }
        }
        Op::ListMultipartUploads(b) => vec![p(Action::ListObjects, repo(b))],
        Op::GetBucketAcl(b) => vec![p(Action::ReadRepository, repo(b))],
        Op::RefRoot {
            method,
            bucket,
            reference,
        } => {
            let action = match method {
                RootMethod::Get | RootMethod::Head => Action::ReadObject,
                RootMethod::Put => Action::WriteObject,
                RootMethod::Delete => Action::DeleteObject,
            };
            vec![p(action, object(bucket, &format!("{reference}/")))]
        }
        Op::PutBucketAcl(b) => vec![p(Action::UpdateRepository, repo(b))],
        Op::CreateBucket(b) => vec![p(Action::CreateRepository, repo(b))],
        Op::DeleteObjects(_) | Op::NotSupported(_) | Op::NotFound => Vec::new(),
        Op::GetObject { bucket, key }
        | Op::HeadObject { bucket, key }
        | Op::GetObjectTagging { bucket, key }
        | Op::GetObjectAcl { bucket, key }
        | Op::ListParts { bucket, key, .. } => vec![p(Action::ReadObject, object(bucket, key))],
        Op::PutObject { bucket, key }
        | Op::PutObjectTagging { bucket, key }
        | Op::DeleteObjectTagging { bucket, key }
        | Op::PutObjectAcl { bucket, key }
        | Op::CreateMultipartUpload { bucket, key }
        | Op::CompleteMultipartUpload { bucket, key, .. }
        | Op::UploadPart {
            bucket,
            key,
            copy: false,
            ..
        } => vec![p(Action::WriteObject, object(bucket, key))],
        Op::CopyObject { bucket, key }
        | Op::UploadPart {
            bucket,
            key,
            copy: true,
            ..
        } => vec![p(Action::WriteObject, object(bucket, key)), read_source()?],
        Op::DeleteObject { bucket, key } | Op::AbortMultipartUpload { bucket, key, .. } => {
            vec![p(Action::DeleteObject, object(bucket, key))]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op_key(bucket: &str, key: &str) -> (String, String) {
        (bucket.to_owned(), key.to_owned())
    }

    #[test]
    fn objects_are_named_by_path_without_the_ref() {
        assert_eq!(
            object("r", "main/a/b.csv"),
            "arn:lakefs:fs:::repository/r/object/a/b.csv"
        );
        assert_eq!(object("r", "main"), "arn:lakefs:fs:::repository/r/object/");
    }

    #[test]
    fn copies_also_read_their_source() {
        let (bucket, key) = op_key("dst", "main/x");
        let op = Op::CopyObject { bucket, key };
        let perms = required(&op, &BTreeMap::new(), Some(("src", "dev/y"))).unwrap();
        assert_eq!(
            perms,
            vec![
                Permission::new(
                    Action::WriteObject,
                    "arn:lakefs:fs:::repository/dst/object/x"
                ),
                Permission::new(
                    Action::ReadObject,
                    "arn:lakefs:fs:::repository/src/object/y"
                ),
            ]
        );
        assert!(required(
            &Op::CopyObject {
                bucket: "d".into(),
                key: "m/x".into()
            },
            &BTreeMap::new(),
            None
        )
        .is_err());
    }

    #[test]
    fn top_level_listing_with_a_slash_lists_branches() {
        let op = Op::ListObjects {
            bucket: "r".into(),
            v2: true,
        };
        let mut q = BTreeMap::new();
        q.insert("delimiter".to_owned(), "/".to_owned());
        assert_eq!(
            required(&op, &q, None).unwrap()[0].action,
            Action::ListBranches
        );
        q.insert("prefix".to_owned(), "main/".to_owned());
        assert_eq!(
            required(&op, &q, None).unwrap()[0].action,
            Action::ListObjects
        );
    }
}
