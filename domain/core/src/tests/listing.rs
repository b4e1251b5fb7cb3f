//! Delimited listings of a branch, whose staging cursors read a folder's
//! first entry only: exactly the listings of a naive reading, with staged
//! entries, tombstones, sealed tokens and committed objects, at any read
//! size; and skipping a folder reads none of it.

use super::*;
use async_trait::async_trait;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tarn_model::{Branch, StagedValue, StagingToken};
use tarn_ports::{PortResult, StagingEntry, StagingStore};

/// A staging store that counts the entries its scans return.
struct Counting {
    inner: MemoryStagingStore,
    read: AtomicUsize,
}

impl Counting {
    fn count(&self, got: PortResult<Vec<StagingEntry>>) -> PortResult<Vec<StagingEntry>> {
        if let Ok(entries) = &got {
            self.read.fetch_add(entries.len(), Ordering::SeqCst);
        }
        got
    }
}

#[async_trait]
impl StagingStore for Counting {
    async fn put(&self, t: &StagingToken, p: &ObjectPath, v: &StagedValue) -> PortResult<()> {
        self.inner.put(t, p, v).await
    }

    async fn put_many(&self, t: &StagingToken, entries: &[StagingEntry]) -> PortResult<()> {
        self.inner.put_many(t, entries).await
    }

    async fn get(&self, t: &StagingToken, p: &ObjectPath) -> PortResult<Option<StagedValue>> {
        self.inner.get(t, p).await
    }

    async fn delete(&self, t: &StagingToken, p: &ObjectPath) -> PortResult<()> {
        self.inner.delete(t, p).await
    }

    async fn scan(
        &self,
        t: &StagingToken,
        prefix: &str,
        after: Option<&ObjectPath>,
        limit: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        self.count(self.inner.scan(t, prefix, after, limit).await)
    }

    async fn scan_folders(
        &self,
        t: &StagingToken,
        prefix: &str,
        delimiter: &str,
        after: Option<&ObjectPath>,
        limit: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        let got = self
            .inner
            .scan_folders(t, prefix, delimiter, after, limit)
            .await;
        self.count(got)
    }

    async fn drop_prefix(&self, t: &StagingToken, prefix: &str) -> PortResult<()> {
        self.inner.drop_prefix(t, prefix).await
    }
}

struct Setup {
    f: Fixture,
    staging: Arc<Counting>,
}

async fn setup(staging_page: usize) -> Setup {
    let clock = Arc::new(FixedClock::new(Timestamp::from_unix_seconds(1_700_000_000)));
    let staging = Arc::new(Counting {
        inner: MemoryStagingStore::new(),
        read: AtomicUsize::new(0),
    });
    let stores = Stores {
        blocks: Arc::new(MemoryBlockStore::new(clock.clone())),
        refs: Arc::new(MemoryRefStore::new()),
        staging: staging.clone(),
        multipart: Arc::new(MemoryMultipartStore::new()),
        clock: clock.clone(),
        ids: Arc::new(UniqueIds::new()),
    };
    let settings = EngineSettings {
        // Small ranges: the committed tree has several.
        split: SplitRule {
            raggedness: 4,
            max_bytes: 512,
        },
        staging_page,
        ..EngineSettings::default()
    };
    let engine = Engine::new(stores, settings);
    let repo = RepositoryId::new("repo").unwrap();
    let ns = StorageNamespace::new("mem://listing").unwrap();
    engine
        .create_repository(repo.clone(), ns, b("main"))
        .await
        .unwrap();
    Setup {
        f: Fixture {
            engine,
            clock,
            repo,
        },
        staging,
    }
}

impl Setup {
    async fn branch(&self) -> Branch {
        self.f
            .engine
            .get_branch(&self.f.repo, &b("main"))
            .await
            .unwrap()
    }

    /// Writes straight into the branch's staging token (`None`: a tombstone).
    async fn stage(&self, writes: &[(&str, Option<&str>)]) {
        let token = self.branch().await.staging_token;
        let batch: Vec<StagingEntry> = writes
            .iter()
            .map(|(path, content)| {
                let value = match content {
                    Some(c) => StagedValue::Entry(entry(c)),
                    None => StagedValue::Tombstone,
                };
                (p(path), value)
            })
            .collect();
        self.staging.put_many(&token, &batch).await.unwrap();
    }

    /// What a commit does before it writes the tree: the staging token goes
    /// to the front of the sealed tokens and a fresh one takes its place.
    async fn seal(&self, serial: usize) {
        let old = self.branch().await;
        let mut sealed_tokens = vec![old.staging_token.clone()];
        sealed_tokens.extend(old.sealed_tokens.iter().cloned());
        let new = Branch {
            staging_token: StagingToken::new(format!("t-sealed-{serial}")).unwrap(),
            sealed_tokens,
            ..old.clone()
        };
        self.f
            .engine
            .stores()
            .refs
            .update_branch(&self.f.repo, &old, &new)
            .await
            .unwrap();
    }

    /// Every page of a listing, as (key, content of an object).
    async fn list(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        amount: usize,
    ) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        let mut after = None;
        for _ in 0..1000 {
            let req = ListRequest {
                prefix: prefix.into(),
                after,
                amount,
                delimiter: delimiter.map(Into::into),
            };
            let page = self
                .f
                .engine
                .list_objects(&self.f.repo, "main", &req)
                .await
                .unwrap();
            assert!(page.items.len() <= amount, "{req:?}: an overfull page");
            out.extend(page.items.into_iter().map(|l| match l {
                Listing::Object(p, e) => (p.into_string(), Some(e.checksum)),
                Listing::CommonPrefix(p) => (p, None),
            }));
            if !page.has_more {
                return out;
            }
            after = Some(page.next_offset);
        }
        panic!("{prefix:?} {delimiter:?}: too many pages");
    }
}

/// S3's listing of `view`: paths under `prefix`, those with `delimiter`
/// after the prefix collapsed into their common prefix.
fn naive_listing(
    view: &BTreeMap<String, String>,
    prefix: &str,
    delimiter: Option<&str>,
) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (path, content) in view.range(prefix.to_owned()..) {
        let Some(rest) = path.strip_prefix(prefix) else {
            break;
        };
        let folder = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            rest.find(d)
                .map(|i| path[..prefix.len() + i + d.len()].to_owned())
        });
        match folder {
            Some(f) if out.last().is_some_and(|(k, _)| *k == f) => {}
            Some(f) => out.push((f, None)),
            None => out.push((path.clone(), Some(tarn_ports::md5_hex(content.as_bytes())))),
        }
    }
    out
}

/// Paths in a few folders, nested, with files beside them and non-ASCII
/// names, so that folders share prefixes with files (`a`, `a-`, `a/`).
fn paths() -> Vec<String> {
    let mut out = vec![
        "a".to_owned(),
        "a-".to_owned(),
        "é".to_owned(),
        "z".to_owned(),
    ];
    for top in ["a", "b", "é", "日本"] {
        for second in ["1", "2", "x", "ü"] {
            out.push(format!("{top}/{second}"));
            for third in ["p", "q"] {
                out.push(format!("{top}/{second}/{third}"));
            }
        }
    }
    out
}

/// The view of the branch, from its layers oldest first.
fn overlay(layers: &[Vec<(String, Option<String>)>]) -> BTreeMap<String, String> {
    let mut view = BTreeMap::new();
    for layer in layers {
        for (path, content) in layer {
            match content {
                Some(c) => view.insert(path.clone(), c.clone()),
                None => view.remove(path),
            };
        }
    }
    view
}

/// The listings compared: prefixes, delimiters (multi-byte and longer than
/// a character included) and page sizes.
const LISTINGS: [(&str, Option<&str>, usize); 9] = [
    ("", Some("/"), 1000),
    ("", Some("/"), 1),
    ("", Some("/"), 2),
    ("a", Some("/"), 3),
    ("a/", Some("/"), 2),
    ("日本/", Some("/"), 1),
    ("", Some("本/"), 2),
    ("", Some("ü"), 1),
    ("", None, 7),
];

/// Builds a branch: a commit of `committed`, then `layers` of staged
/// writes, each but the last sealed; checks every listing against the
/// naive one.
async fn check(
    staging_page: usize,
    committed: Vec<(String, String)>,
    layers: Vec<Vec<(String, Option<String>)>>,
) {
    let s = setup(staging_page).await;
    if !committed.is_empty() {
        for (path, content) in &committed {
            s.f.put("main", path, content).await;
        }
        s.f.commit("main", "base").await;
    }
    let n = layers.len();
    for (i, layer) in layers.iter().enumerate() {
        let writes: Vec<(&str, Option<&str>)> = layer
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_deref()))
            .collect();
        s.stage(&writes).await;
        if i + 1 < n {
            s.seal(i).await;
        }
    }
    let mut all = vec![committed
        .into_iter()
        .map(|(p, c)| (p, Some(c)))
        .collect::<Vec<_>>()];
    all.extend(layers);
    let view = overlay(&all);
    for (prefix, delimiter, amount) in LISTINGS {
        let got = s.list(prefix, delimiter, amount).await;
        let want = naive_listing(&view, prefix, delimiter);
        assert_eq!(
            got, want,
            "page {staging_page}: list {prefix:?} {delimiter:?} by {amount}"
        );
    }
}

fn layer() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    let n = paths().len();
    prop::collection::vec((0..n, prop::option::weighted(0.6, 0..3u8)), 0..30).prop_map(
        move |writes| {
            let paths = paths();
            writes
                .into_iter()
                .map(|(i, c)| (paths[i].clone(), c.map(|c| format!("v{c}"))))
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn delimited_listings_agree_with_a_naive_reading(
        staging_page in prop_oneof![Just(1usize), Just(2), Just(3), Just(5), Just(1024)],
        committed in prop::collection::btree_set(0..paths().len(), 0..40),
        layers in prop::collection::vec(layer(), 1..4),
    ) {
        let paths = paths();
        let committed = committed.into_iter().map(|i| (paths[i].clone(), "c".to_owned())).collect();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(check(staging_page, committed, layers));
    }
}

fn owned(writes: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    writes
        .iter()
        .map(|(p, c)| ((*p).to_owned(), c.map(str::to_owned)))
        .collect()
}

fn committed(paths: &[&str]) -> Vec<(String, String)> {
    paths
        .iter()
        .map(|p| ((*p).to_owned(), "c".to_owned()))
        .collect()
}

/// A folder whose first staged entry is a tombstone hiding a committed
/// object shows when something else in it is visible, and not when nothing
/// is; the last folder's entries are all hidden, so the cursors read inside
/// it past the end of their folder reads.
#[tokio::test]
async fn tombstones_first_in_a_folder() {
    for page in [1, 2, 3, 1024] {
        check(
            page,
            committed(&["a/1", "a/2", "b/1", "b/2", "b/3", "b/4", "c/1"]),
            vec![owned(&[
                ("a/1", None),
                ("b/1", None),
                ("b/2", None),
                ("b/3", None),
                ("b/4", None),
                ("c/0", None),
                ("c/1", None),
                ("c/2", None),
                ("c/3", None),
            ])],
        )
        .await;
    }
}

/// A folder whose visible entry follows more hidden ones than a read inside
/// the folder returns, with folders after it: the reads inside it go on
/// until the visible one.
#[tokio::test]
async fn a_folder_walked_through_several_reads() {
    for page in [1, 2, 3, 1024] {
        let mut hidden: Vec<(String, Option<String>)> =
            (0..20).map(|i| (format!("a/{i:02}"), None)).collect();
        hidden.push(("a/20".to_owned(), Some("x".to_owned())));
        hidden.push(("b/1".to_owned(), Some("x".to_owned())));
        check(page, committed(&["c/1"]), vec![hidden]).await;
    }
}

/// A sealed token's first entry of a folder, shadowed by a newer token's
/// tombstone: the folder shows through the sealed token's next entry, or the
/// committed tree's.
#[tokio::test]
async fn entries_shadowed_by_newer_tokens() {
    for page in [1, 2, 1024] {
        check(
            page,
            committed(&["c/9"]),
            vec![
                owned(&[
                    ("a/1", Some("x")),
                    ("a/2", Some("y")),
                    ("b/1", Some("x")),
                    ("c/1", Some("x")),
                ]),
                owned(&[("a/1", None), ("b/1", None), ("c/1", None), ("c/2", None)]),
                owned(&[("d/1", Some("x"))]),
            ],
        )
        .await;
    }
}

/// A page of folders reads one staged entry per folder (and a few more),
/// however many each holds; a page inside a folder reads about a page.
#[tokio::test]
async fn a_page_of_folders_reads_no_folder_through() {
    let s = setup(1024).await;
    let mut writes = Vec::new();
    let names: Vec<String> = (0..60)
        .flat_map(|f| (0..100).map(move |i| format!("f{f:02}/o{i:03}")))
        .collect();
    for n in &names {
        writes.push((n.as_str(), Some("x")));
    }
    s.stage(&writes).await;
    s.staging.read.store(0, Ordering::SeqCst);
    let folders = s.list("", Some("/"), 50).await;
    assert_eq!(folders.len(), 60);
    let read = s.staging.read.load(Ordering::SeqCst);
    // Two pages: each reads the first entry of its folders and of the folder
    // it starts in; reading the folders through would be 6,000.
    assert!(
        read <= 100,
        "a listing of 60 folders read {read} staged entries"
    );
    s.staging.read.store(0, Ordering::SeqCst);
    let inside = s.list("f07/", Some("/"), 1000).await;
    assert_eq!(inside.len(), 100);
    let read = s.staging.read.load(Ordering::SeqCst);
    assert!(read <= 100, "a folder of 100 read {read} staged entries");
}
