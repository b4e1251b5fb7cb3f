//! The local block store's conformance suite and its own cases.

use super::*;
use std::sync::Arc;
use tarn_ports::testkit::BlockFixture;

async fn fixture() -> BlockFixture {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlockStore::open(dir.path().join("root"))
        .await
        .unwrap();
    let ns = |s: &str| StorageNamespace::new(s).unwrap();
    BlockFixture {
        store: Arc::new(store),
        ns: ns("local://repos/ns-a"),
        sibling: ns("local://repos/ns-b"),
        foreign: ns("mem://repos/ns-a"),
        min_part_size: 0,
        guard: Box::new(dir),
    }
}

tarn_ports::block_store_conformance!(fixture);

#[tokio::test]
async fn nothing_is_written_outside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlockStore::open(dir.path().join("root"))
        .await
        .unwrap();
    let ns = StorageNamespace::new("local://../../escape").unwrap();
    for k in ["../../../etc/x", "..", "../..", "a/../../.."] {
        let key = BlockKey::new(k).unwrap();
        store
            .put(&ns, &key, ByteStream::from_bytes(&b"x"[..]), Some(1))
            .await
            .unwrap();
    }
    let top: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, ["root"], "only the root exists beside it");
    let listed = store.list(&ns, "", None, 100).await.unwrap();
    assert_eq!(listed.len(), 4);
}

#[tokio::test]
async fn crash_leftovers_in_tmp_are_removed_on_open_and_live_writes_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    LocalBlockStore::open(&root).await.unwrap();
    let tmp = root.join(TMP_DIR);
    std::fs::write(tmp.join(".leftover"), b"partial").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(tmp.join(".leftover"))
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    // A write in flight, by the server beside which a command opens
    // the same store.
    std::fs::write(tmp.join(".in-flight"), b"being written").unwrap();
    LocalBlockStore::open(&root).await.unwrap();
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [".in-flight"]);
}

/// Fresh small objects are made durable by shared file system syncs; a
/// plain `put`, and a fresh key that turns out taken, sync their own file.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_small_writes_go_through_shared_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalBlockStore::open(dir.path()).await.unwrap());
    // Where the file system is not one the shared sync trusts, every write
    // syncs itself: only the contents are checked below.
    let rounds = || store.syncs.as_ref().map(|g| g.rounds());
    let ns = StorageNamespace::new("local://ns").unwrap();
    let puts = (0..64).map(|i| {
        let (store, ns) = (store.clone(), ns.clone());
        tokio::spawn(async move {
            let key = BlockKey::new(format!("d{}/k{i}", i % 4)).unwrap();
            let body = ByteStream::from_bytes(format!("body {i}").into_bytes());
            store.put_fresh(&ns, &key, body, None).await.map(|_| key)
        })
    });
    let keys: Vec<BlockKey> = futures::future::try_join_all(puts)
        .await
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let after_fresh = rounds();
    if let Some(n) = after_fresh {
        // How many writers share one depends on the disk's speed; that
        // they share is the sync group's own test.
        assert!((1..=64).contains(&n), "{n} shared syncs for 64 writes");
    }
    let again = |body: &'static [u8]| ByteStream::from_bytes(body);
    store.put(&ns, &keys[0], again(b"new"), None).await.unwrap();
    store
        .put_fresh(&ns, &keys[1], again(b"taken"), None)
        .await
        .unwrap();
    store
        .put(&ns, &BlockKey::new("plain").unwrap(), again(b"plain"), None)
        .await
        .unwrap();
    assert_eq!(rounds(), after_fresh, "these sync their own files");
    let read = |key: BlockKey| {
        let (store, ns) = (store.clone(), ns.clone());
        async move {
            let got = store.get(&ns, &key, None).await.unwrap();
            got.body.collect_bounded(64).await.unwrap()
        }
    };
    assert_eq!(read(keys[0].clone()).await, &b"new"[..]);
    assert_eq!(read(keys[1].clone()).await, &b"taken"[..]);
    assert_eq!(read(BlockKey::new("plain").unwrap()).await, &b"plain"[..]);
    for (i, key) in keys.iter().enumerate().skip(2) {
        assert_eq!(read(key.clone()).await, format!("body {i}").as_bytes());
    }
}

#[tokio::test]
async fn malformed_upload_ids_never_become_paths() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlockStore::open(dir.path().join("root"))
        .await
        .unwrap();
    let ns = StorageNamespace::new("local://ns").unwrap();
    let key = BlockKey::new("k").unwrap();
    for id in ["../../x", "", "ABCDEF0123456789ABCDEF0123456789", "0123"] {
        let res = store.abort_multipart(&ns, &key, id).await;
        assert_eq!(res.unwrap_err().kind(), ErrorKind::NotFound, "{id:?}");
    }
}
