//! Property tests of listings: the sorted walk against a sort of every key.

use super::*;
use proptest::prelude::*;

fn key_strategy() -> impl Strategy<Value = String> {
    let seg = prop_oneof![
        4 => "[ab.%-]{1,3}",
        1 => Just(String::new()),
        1 => "[ab]{1,2}".prop_map(|s| format!("{}{s}", "L".repeat(240))),
    ];
    prop::collection::vec(seg, 1..4)
        .prop_map(|segs| segs.join("/"))
        .prop_filter("a valid key", |k| BlockKey::new(k.clone()).is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// The sorted walk answers what sorting every key would.
    #[test]
    fn listing_matches_a_sort_of_every_key(
        keys in prop::collection::btree_set(key_strategy(), 1..30),
        prefix in prop_oneof![Just(String::new()), "[ab.%L/-]{1,3}"],
        after_pick in 0usize..40,
        limit in 1usize..8,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalBlockStore::open(dir.path()).await.unwrap();
            let ns = StorageNamespace::new("local://walk").unwrap();
            for k in &keys {
                let key = BlockKey::new(k.clone()).unwrap();
                store.put(&ns, &key, ByteStream::from_bytes(b"x".to_vec()), Some(1)).await.unwrap();
            }
            let all: Vec<&String> = keys.iter().collect();
            let after = all.get(after_pick).map(|k| BlockKey::new((*k).clone()).unwrap());
            let want: Vec<String> = keys
                .iter()
                .filter(|k| k.starts_with(&prefix))
                .filter(|k| after.as_ref().is_none_or(|a| k.as_str() > a.as_str()))
                .take(limit)
                .cloned()
                .collect();
            let got: Vec<String> = store
                .list(&ns, &prefix, after.as_ref(), limit)
                .await
                .unwrap()
                .into_iter()
                .map(|b| b.key.as_str().to_owned())
                .collect();
            prop_assert_eq!(got, want);
            Ok(())
        })?;
    }
}
