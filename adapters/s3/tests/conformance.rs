//! The `BlockStore` conformance suite against a real S3 server on loopback
//! (`make test` starts one: scripts/with-s3.sh), every case under a prefix of
//! its own. Without a server the cases skip, except under `make test`.

use std::sync::Arc;
use tarn_adapter_s3::testing::{test_server_or_skip, unique_prefix};
use tarn_adapter_s3::S3BlockStore;
use tarn_model::StorageNamespace;
use tarn_ports::testkit::BlockFixture;

async fn fixture() -> Option<BlockFixture> {
    let (mut settings, bucket) = test_server_or_skip()?;
    // The smallest part S3 allows, so that the multipart cases stay small.
    settings.part_size = 5 << 20;
    let store = S3BlockStore::connect(&settings)
        .await
        .expect("an S3 client");
    let root = format!("s3://{bucket}/{}", unique_prefix("conformance"));
    let ns = |s: &str| StorageNamespace::new(s).expect("a namespace");
    Some(BlockFixture {
        store: Arc::new(store),
        ns: ns(&format!("{root}/repo")),
        sibling: ns(&format!("{root}/sibling")),
        foreign: ns("local://elsewhere"),
        min_part_size: 5 << 20,
        guard: Box::new(()),
    })
}

tarn_ports::block_store_conformance!(fixture);
