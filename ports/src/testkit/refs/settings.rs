//! The settings cases of the `RefStore` suite: compare-and-set, races,
//! listing by prefix, and reads together with a branch.

use super::*;

/// `get_repository_branch` answers as `get_repository`, `get_branch` and
/// `get_setting` would.
pub async fn repository_and_branch_read_together(f: RefFixture) {
    let repo = create(&*f.store, "both").await;
    f.store
        .create_branch(&repo.id, &branch("dev", 2))
        .await
        .unwrap();
    let read = |name: &'static str, setting: Option<&'static str>| {
        let (store, id) = (f.store.clone(), repo.id.clone());
        async move {
            store
                .get_repository_branch(&id, &branch_name(name), setting)
                .await
                .unwrap()
        }
    };
    let got = read("dev", None).await;
    assert_eq!(got.repository, repo);
    assert_eq!(got.branch, Some(branch("dev", 2)));
    assert_eq!(got.setting, None);
    assert_eq!(read("nope", Some("k")).await.branch, None);
    assert_eq!(read("dev", Some("k")).await.setting, None, "unset");
    f.store.set_setting(&repo.id, "k", None, "v").await.unwrap();
    f.store
        .set_setting(&repo.id, "other", None, "w")
        .await
        .unwrap();
    let got = read("nope", Some("k")).await;
    assert_eq!((got.branch, got.setting.as_deref()), (None, Some("v")));
    let got = read("dev", Some("k")).await;
    assert_eq!(got.branch, Some(branch("dev", 2)));
    assert_eq!(got.setting.as_deref(), Some("v"));
    assert_eq!(read("dev", None).await.setting, None, "not asked for");
    create(&*f.store, "other").await;
    f.store
        .create_branch(&repo_id("other"), &branch("only-other", 1))
        .await
        .unwrap();
    assert_eq!(
        read("only-other", None).await.branch,
        None,
        "a branch of another repository"
    );
    assert_kind(
        f.store
            .get_repository_branch(&repo_id("missing"), &branch_name("main"), Some("k"))
            .await,
        ErrorKind::NotFound,
        "missing repository",
    );
}

/// Settings start unset, change only from the expected value, go with the
/// repository, and are per repository.
pub async fn settings_are_compare_and_set(f: RefFixture) {
    let (repo, commit, main) = (repository("settings"), commit(1, vec![]), branch("main", 1));
    f.store
        .create_repository(&repo, &commit, &main)
        .await
        .unwrap();
    let other = repository("other-settings");
    f.store
        .create_repository(&other, &commit, &main)
        .await
        .unwrap();
    assert_eq!(f.store.get_setting(&repo.id, "k").await.unwrap(), None);
    assert_kind(
        f.store.set_setting(&repo.id, "k", Some("x"), "v1").await,
        ErrorKind::PreconditionFailed,
        "set from a value that is not there",
    );
    f.store
        .set_setting(&repo.id, "k", None, "v1")
        .await
        .unwrap();
    assert_kind(
        f.store.set_setting(&repo.id, "k", None, "v2").await,
        ErrorKind::PreconditionFailed,
        "set as if unset",
    );
    f.store
        .set_setting(&repo.id, "k", Some("v1"), "v2 with\nnewline and ünïcode")
        .await
        .unwrap();
    assert_eq!(
        f.store.get_setting(&repo.id, "k").await.unwrap().as_deref(),
        Some("v2 with\nnewline and ünïcode")
    );
    assert_eq!(f.store.get_setting(&other.id, "k").await.unwrap(), None);
    let missing = repo_id("no-such-repo");
    assert_kind(
        f.store.get_setting(&missing, "k").await,
        ErrorKind::NotFound,
        "missing repo",
    );
    assert_kind(
        f.store.set_setting(&missing, "k", None, "v").await,
        ErrorKind::NotFound,
        "missing repo",
    );
    f.store.delete_repository(&repo.id).await.unwrap();
    f.store
        .create_repository(&repo, &commit, &main)
        .await
        .unwrap();
    assert_eq!(
        f.store.get_setting(&repo.id, "k").await.unwrap(),
        None,
        "settings go with the repository"
    );
}

/// Of concurrent updates from one expected value, exactly one wins.
pub async fn concurrent_setting_updates_have_one_winner(f: RefFixture) {
    let (repo, commit, main) = (
        repository("race-settings"),
        commit(1, vec![]),
        branch("main", 1),
    );
    f.store
        .create_repository(&repo, &commit, &main)
        .await
        .unwrap();
    f.store
        .set_setting(&repo.id, "k", None, "start")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = f.store.clone();
        let id = repo.id.clone();
        tasks.push(tokio::spawn(async move {
            store
                .set_setting(&id, "k", Some("start"), &format!("v{i}"))
                .await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => wins += 1,
            // Losers must lose the race, not fail otherwise.
            Err(e) => assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "{e}"),
        }
    }
    assert_eq!(wins, 1);
}

/// `list_settings` lists one prefix's keys, in byte order, after a cursor,
/// at most `limit`, and only the repository's own.
pub async fn settings_list_by_prefix_in_byte_order(f: RefFixture) {
    let repo = create(&*f.store, "listed-settings").await;
    let other = create(&*f.store, "other-listed").await;
    for key in ["p/b", "p/a", "p/\u{e9}", "p/B", "q/a", "p", "o/z"] {
        f.store
            .set_setting(&repo.id, key, None, &format!("v-{key}"))
            .await
            .unwrap();
    }
    f.store
        .set_setting(&other.id, "p/zz", None, "other")
        .await
        .unwrap();
    let keys = |v: Vec<(String, String)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let all = f
        .store
        .list_settings(&repo.id, "p/", None, 100)
        .await
        .unwrap();
    assert_eq!(all[0], ("p/B".to_owned(), "v-p/B".to_owned()));
    assert_eq!(keys(all), ["p/B", "p/a", "p/b", "p/\u{e9}"]);
    let page = f
        .store
        .list_settings(&repo.id, "p/", Some("p/a"), 2)
        .await
        .unwrap();
    assert_eq!(keys(page), ["p/b", "p/\u{e9}"]);
    let before = f
        .store
        .list_settings(&repo.id, "p/", Some("a"), 1)
        .await
        .unwrap();
    assert_eq!(keys(before), ["p/B"], "a cursor before the prefix");
    let past = f
        .store
        .list_settings(&repo.id, "p/", Some("p/\u{ff}"), 10)
        .await
        .unwrap();
    assert!(past.is_empty());
    assert_eq!(
        keys(f.store.list_settings(&repo.id, "", None, 3).await.unwrap()),
        ["o/z", "p", "p/B"]
    );
    assert_kind(
        f.store
            .list_settings(&repo_id("no-such-repo"), "p/", None, 10)
            .await,
        ErrorKind::NotFound,
        "missing repo",
    );
}
