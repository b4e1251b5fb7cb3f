//! `put_fresh`: a put of a key nobody else names, which a store may make
//! durable together with concurrent ones.

use super::{key, payload, BlockFixture};
use crate::{md5_hex, ByteStream};

/// Fresh keys written at once, small and large, some of unknown length,
/// each read back whole with its ETag; one under a key already taken
/// replaces it, as `put` does.
pub async fn put_fresh_stores_each_whole(f: BlockFixture) {
    let sizes = [0usize, 1, 1000, 64 << 10, (64 << 10) + 1, 300 << 10];
    let writes = sizes.iter().enumerate().map(|(i, &len)| {
        let (store, ns) = (f.store.clone(), f.ns.clone());
        async move {
            let (k, data) = (key(&format!("data/fresh/{i}")), payload(len, i as u8));
            let size = (i % 2 == 0).then_some(len as u64);
            let body = ByteStream::from_bytes(data.clone());
            let out = store.put_fresh(&ns, &k, body, size).await;
            let out = out.unwrap_or_else(|e| panic!("put_fresh {k:?}: {e}"));
            assert_eq!((out.size, &out.etag), (len as u64, &md5_hex(&data)));
            (k, data)
        }
    });
    let mut written = futures::future::join_all(writes).await;
    let taken = written[2].0.clone();
    let again = payload(500, 99);
    let body = ByteStream::from_bytes(again.clone());
    f.store.put_fresh(&f.ns, &taken, body, None).await.unwrap();
    written[2].1 = again;
    for (k, data) in written {
        let got = f.store.get(&f.ns, &k, None).await.unwrap();
        assert_eq!(got.meta.etag, md5_hex(&data), "{k:?}");
        let body = got.body.collect_bounded(1 << 20).await.unwrap();
        assert_eq!(body.to_vec(), data, "{k:?}");
    }
}
