//! Engine tests over the memory adapters: each use case, the edge cases the
//! API relies on, and the concurrency guarantee of commits.

#![allow(clippy::unwrap_used)]

use crate::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use tarn_adapter_memory::{
    FixedClock, MemoryBlockStore, MemoryMultipartStore, MemoryRefStore, MemoryStagingStore,
    UniqueIds,
};
use tarn_model::tree::SplitRule;
use tarn_model::{
    BlockKey, BranchName, Entry, ObjectPath, PhysicalAddress, RepositoryId, StorageNamespace,
    Timestamp,
};

pub(super) struct Fixture {
    pub(super) engine: Engine,
    pub(super) clock: Arc<FixedClock>,
    pub(super) repo: RepositoryId,
}

/// Range files `engine` has read (its range cache's misses).
pub(super) fn ranges_read(engine: &Engine) -> u64 {
    engine
        .cache_stats()
        .iter()
        .filter(|s| s.cache == "ranges")
        .map(|s| s.misses)
        .sum()
}

pub(super) fn p(s: &str) -> ObjectPath {
    ObjectPath::new(s).unwrap()
}

pub(super) fn b(s: &str) -> BranchName {
    BranchName::new(s).unwrap()
}

pub(super) fn entry(content: &str) -> Entry {
    Entry {
        address: PhysicalAddress::Relative(BlockKey::new(format!("data/{content}")).unwrap()),
        size: content.len() as u64,
        checksum: tarn_ports::md5_hex(content.as_bytes()),
        last_modified: Timestamp::from_unix_seconds(1),
        content_type: None,
        metadata: BTreeMap::new(),
        tags: Default::default(),
    }
}

pub(super) async fn fixture_with(split: SplitRule) -> Fixture {
    let clock = Arc::new(FixedClock::new(Timestamp::from_unix_seconds(1_700_000_000)));
    let stores = Stores {
        blocks: Arc::new(MemoryBlockStore::new(clock.clone())),
        refs: Arc::new(MemoryRefStore::new()),
        staging: Arc::new(MemoryStagingStore::new()),
        multipart: Arc::new(MemoryMultipartStore::new()),
        clock: clock.clone(),
        ids: Arc::new(UniqueIds::new()),
    };
    let engine = Engine::new(
        stores,
        EngineSettings {
            split,
            ..EngineSettings::default()
        },
    );
    let repo = RepositoryId::new("repo").unwrap();
    engine
        .create_repository(
            repo.clone(),
            StorageNamespace::new("mem://repo").unwrap(),
            b("main"),
        )
        .await
        .unwrap();
    Fixture {
        engine,
        clock,
        repo,
    }
}

pub(super) async fn fixture() -> Fixture {
    fixture_with(SplitRule::default()).await
}

impl Fixture {
    pub(super) async fn put(&self, branch: &str, path: &str, content: &str) {
        self.engine
            .stage_object(&self.repo, &b(branch), &p(path), entry(content))
            .await
            .unwrap();
    }

    pub(super) async fn commit(&self, branch: &str, message: &str) -> tarn_model::Commit {
        self.clock.advance(1_000_000);
        let req = CommitRequest {
            message: message.into(),
            committer: "tester".into(),
            ..Default::default()
        };
        self.engine
            .commit(&self.repo, &b(branch), req)
            .await
            .unwrap()
    }

    pub(super) async fn read(&self, reference: &str, path: &str) -> Option<String> {
        match self
            .engine
            .stat_object(&self.repo, reference, &p(path))
            .await
        {
            Ok(e) => Some(
                e.address
                    .uri(&StorageNamespace::new("mem://x").unwrap())
                    .replace("mem://x/data/", ""),
            ),
            Err(Error::NotFound { .. }) => None,
            Err(e) => panic!("stat {reference} {path}: {e}"),
        }
    }

    pub(super) async fn list(
        &self,
        reference: &str,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let req = ListRequest {
                prefix: prefix.into(),
                after,
                amount: 2,
                delimiter: delimiter.map(Into::into),
            };
            let page = self
                .engine
                .list_objects(&self.repo, reference, &req)
                .await
                .unwrap();
            out.extend(page.items.iter().map(|l| l.key().to_owned()));
            if !page.has_more {
                return out;
            }
            after = Some(page.next_offset);
        }
    }
}

mod compaction;
mod data;
mod described;
mod diff_merge;
mod gc;
mod history;
mod import;
mod layered_merge;
mod listing;
mod many;
mod objects_commits;
mod refs_dump;
mod repos_branches;
