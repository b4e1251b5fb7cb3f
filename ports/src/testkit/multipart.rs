//! The `MultipartStore` conformance suite.

use super::assert_kind;
use crate::{ErrorKind, MultipartStore};
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_model::{
    BlockKey, BranchName, MultipartUpload, ObjectPath, PartNumber, PartRecord, RepositoryId,
    Timestamp, UploadId,
};

/// What a multipart-store conformance case needs.
pub struct MultipartFixture {
    /// The store under test, empty and fresh for this case.
    pub store: Arc<dyn MultipartStore>,
    /// Keeps temporary resources alive for the case.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Runs the whole `MultipartStore` suite against `$factory`, an async fn
/// returning a fresh [`MultipartFixture`].
#[macro_export]
macro_rules! multipart_store_conformance {
    ($factory:expr) => {
        $crate::__conformance_cases!(multipart_store_conformance, multipart, $factory;
            uploads_create_get_delete,
            uploads_list_by_gateway_key_then_id,
            parts_are_recorded_replaced_and_listed,
            unknown_upload_is_not_found,
        );
    };
}

fn upload(id: &str, repo: &str, branch: &str, path: &str) -> MultipartUpload {
    let mut metadata = BTreeMap::new();
    metadata.insert("owner".to_owned(), "me".to_owned());
    MultipartUpload {
        upload_id: UploadId::new(id).unwrap_or_else(|e| panic!("{e}")),
        repository: RepositoryId::new(repo).unwrap_or_else(|e| panic!("{e}")),
        branch: BranchName::new(branch).unwrap_or_else(|e| panic!("{e}")),
        path: ObjectPath::new(path).unwrap_or_else(|e| panic!("{e}")),
        physical_key: BlockKey::new(format!("data/mpu/{id}")).unwrap_or_else(|e| panic!("{e}")),
        block_upload_id: format!("block-{id}"),
        initiated: Timestamp::from_unix_seconds(1_700_000_000),
        content_type: Some("application/octet-stream".to_owned()),
        metadata,
        tags: BTreeMap::from([("team".to_owned(), "data & ml".to_owned())]),
    }
}

fn part(n: u32, etag: &str, size: u64) -> PartRecord {
    PartRecord {
        number: PartNumber::new(n).unwrap_or_else(|e| panic!("{e}")),
        etag: etag.to_owned(),
        size,
        last_modified: Timestamp::from_unix_seconds(1_700_000_100 + i64::from(n)),
    }
}

fn uid(s: &str) -> UploadId {
    UploadId::new(s).unwrap_or_else(|e| panic!("{e}"))
}

pub async fn uploads_create_get_delete(f: MultipartFixture) {
    let u = upload("u1", "repo", "main", "a/b.bin");
    f.store.create_upload(&u).await.unwrap();
    assert_eq!(f.store.get_upload(&u.upload_id).await.unwrap(), u);
    assert_kind(
        f.store.create_upload(&u).await,
        ErrorKind::AlreadyExists,
        "same id twice",
    );
    f.store
        .put_part(&u.upload_id, &part(1, "e1", 5))
        .await
        .unwrap();
    f.store.delete_upload(&u.upload_id).await.unwrap();
    assert_kind(
        f.store.get_upload(&u.upload_id).await,
        ErrorKind::NotFound,
        "after delete",
    );
    assert_kind(
        f.store.delete_upload(&u.upload_id).await,
        ErrorKind::NotFound,
        "delete twice",
    );
    // Re-created with the same id, it has no parts from before.
    f.store.create_upload(&u).await.unwrap();
    assert!(f
        .store
        .list_parts(&u.upload_id, None, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn uploads_list_by_gateway_key_then_id(f: MultipartFixture) {
    // Byte order of "<branch>/<path>": "a-b/x" < "a/x" although "a" < "a-b".
    let uploads = [
        upload("u3", "repo", "a", "x"),
        upload("u1", "repo", "a", "x"),
        upload("u2", "repo", "a-b", "x"),
        upload("u4", "repo", "a", "y/z"),
        upload("u5", "other", "a", "x"),
    ];
    for u in &uploads {
        f.store.create_upload(u).await.unwrap();
    }
    let repo = RepositoryId::new("repo").unwrap();
    let ids = |v: Vec<MultipartUpload>| {
        v.into_iter()
            .map(|u| u.upload_id.into_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(f.store.list_uploads(&repo, None, 10).await.unwrap()),
        ["u2", "u1", "u3", "u4"]
    );
    let after = uid("u1");
    let page = f
        .store
        .list_uploads(&repo, Some(("a/x", &after)), 1)
        .await
        .unwrap();
    assert_eq!(ids(page), ["u3"]);
    let after = uid("u3");
    let page = f
        .store
        .list_uploads(&repo, Some(("a/x", &after)), 10)
        .await
        .unwrap();
    assert_eq!(ids(page), ["u4"]);
    let other = RepositoryId::new("other").unwrap();
    assert_eq!(
        ids(f.store.list_uploads(&other, None, 10).await.unwrap()),
        ["u5"]
    );
}

pub async fn parts_are_recorded_replaced_and_listed(f: MultipartFixture) {
    let u = upload("parts", "repo", "main", "p");
    f.store.create_upload(&u).await.unwrap();
    for n in [3u32, 1, 10, 2] {
        f.store
            .put_part(&u.upload_id, &part(n, &format!("e{n}"), u64::from(n) * 100))
            .await
            .unwrap();
    }
    f.store
        .put_part(&u.upload_id, &part(2, "e2-again", 7))
        .await
        .unwrap();
    let all = f.store.list_parts(&u.upload_id, None, 100).await.unwrap();
    let numbers: Vec<_> = all.iter().map(|p| p.number.get()).collect();
    assert_eq!(numbers, [1, 2, 3, 10]);
    assert_eq!(all[1], part(2, "e2-again", 7));
    let after = PartNumber::new(2).unwrap();
    let page = f
        .store
        .list_parts(&u.upload_id, Some(after), 1)
        .await
        .unwrap();
    assert_eq!(page, vec![part(3, "e3", 300)]);
}

pub async fn unknown_upload_is_not_found(f: MultipartFixture) {
    let id = uid("missing");
    assert_kind(f.store.get_upload(&id).await, ErrorKind::NotFound, "get");
    assert_kind(
        f.store.put_part(&id, &part(1, "e", 1)).await,
        ErrorKind::NotFound,
        "put_part",
    );
    assert_kind(
        f.store.list_parts(&id, None, 10).await,
        ErrorKind::NotFound,
        "list_parts",
    );
}
