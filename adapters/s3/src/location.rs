//! Where a namespace and key live in S3: `s3://bucket/prefix` and key `k`
//! are object `prefix/k` in `bucket`.

use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::{PortError, PortResult};

/// A namespace: its bucket and the key prefix of its objects (empty, or
/// ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    pub bucket: String,
    pub prefix: String,
}

/// One object: its bucket and full key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectAt {
    pub bucket: String,
    pub key: String,
}

impl ObjectAt {
    /// The `x-amz-copy-source` value naming this object: `bucket/key`,
    /// percent-encoded except for the `/` separators.
    pub fn copy_source(&self) -> String {
        let key: Vec<_> = self
            .key
            .split('/')
            .map(|segment| urlencoding::encode(segment).into_owned())
            .collect();
        format!("{}/{}", self.bucket, key.join("/"))
    }
}

/// Parses an `s3://` namespace.
pub(crate) fn namespace(ns: &StorageNamespace) -> PortResult<Base> {
    if ns.scheme() != crate::S3BlockStore::SCHEME {
        return Err(PortError::invalid_input(format!(
            "the S3 block store serves s3:// namespaces, not {ns}"
        )));
    }
    let (bucket, prefix) = match ns.location().split_once('/') {
        Some((bucket, prefix)) => (bucket, prefix.trim_matches('/')),
        None => (ns.location(), ""),
    };
    if !valid_bucket(bucket) {
        return Err(PortError::invalid_input(format!(
            "{ns}: {bucket:?} is not a bucket name (letters, digits, '.', '-' and '_', 1 to 255 of them)"
        )));
    }
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    Ok(Base {
        bucket: bucket.to_owned(),
        prefix,
    })
}

/// Where `key` of `ns` is stored.
pub(crate) fn object(ns: &StorageNamespace, key: &BlockKey) -> PortResult<ObjectAt> {
    let base = namespace(ns)?;
    Ok(ObjectAt {
        key: format!("{}{}", base.prefix, key.as_str()),
        bucket: base.bucket,
    })
}

/// S3's rules are stricter (3 to 63 lowercase characters); S3-compatible
/// stores accept more, so only what could never be a bucket is refused here.
fn valid_bucket(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> StorageNamespace {
        StorageNamespace::new(s).unwrap()
    }

    fn key(s: &str) -> BlockKey {
        BlockKey::new(s).unwrap()
    }

    #[test]
    fn namespaces_map_to_bucket_and_prefix() {
        let at = object(&ns("s3://bucket/some/prefix"), &key("data/x")).unwrap();
        assert_eq!(at.bucket, "bucket");
        assert_eq!(at.key, "some/prefix/data/x");
        let at = object(&ns("s3://bucket"), &key("data/x")).unwrap();
        assert_eq!((at.bucket.as_str(), at.key.as_str()), ("bucket", "data/x"));
        let base = namespace(&ns("s3://bucket/p//")).unwrap();
        assert_eq!(base.prefix, "p/");
    }

    #[test]
    fn other_schemes_and_bad_buckets_are_refused() {
        for bad in ["local://bucket/x", "s3://bad bucket/x", "s3://b\u{e9}/x"] {
            let Ok(n) = StorageNamespace::new(bad) else {
                continue;
            };
            let err = namespace(&n).unwrap_err();
            assert_eq!(err.kind(), tarn_ports::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn copy_source_is_percent_encoded_but_keeps_slashes() {
        let at = ObjectAt {
            bucket: "b".into(),
            key: "dir/a b+c%d/\u{e9}".into(),
        };
        assert_eq!(at.copy_source(), "b/dir/a%20b%2Bc%25d/%C3%A9");
    }
}
