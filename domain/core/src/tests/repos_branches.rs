//! Engine tests: repos, branches.

use super::*;
use crate::Entity;
use tarn_model::{RepositoryId, StorageNamespace, TagName};

#[tokio::test]
async fn a_new_repository_has_its_first_commit_and_default_branch() {
    let f = fixture().await;
    let main = f.engine.get_branch(&f.repo, &b("main")).await.unwrap();
    let c = f.engine.get_commit(&f.repo, "main").await.unwrap();
    assert_eq!(main.commit_id, c.id);
    assert_eq!(c.message, "Repository created");
    assert_eq!(c.generation, 1);
    assert!(c.parents.is_empty());
    assert!(f.list("main", "", None).await.is_empty());
}

#[tokio::test]
async fn a_namespace_or_id_in_use_is_refused() {
    let f = fixture().await;
    let again = f
        .engine
        .create_repository(
            f.repo.clone(),
            StorageNamespace::new("mem://other").unwrap(),
            b("main"),
        )
        .await;
    assert!(
        matches!(
            again,
            Err(Error::AlreadyExists {
                entity: Entity::Repository,
                ..
            })
        ),
        "{again:?}"
    );
    let reused = f
        .engine
        .create_repository(
            RepositoryId::new("second").unwrap(),
            StorageNamespace::new("mem://repo").unwrap(),
            b("main"),
        )
        .await;
    assert!(
        matches!(
            reused,
            Err(Error::InvalidInput {
                field: "storage_namespace",
                ..
            })
        ),
        "{reused:?}"
    );
}

#[tokio::test]
async fn repositories_list_by_prefix_and_page_and_delete() {
    let f = fixture().await;
    for id in ["alpha", "alpine", "beta"] {
        f.engine
            .create_repository(
                RepositoryId::new(id).unwrap(),
                StorageNamespace::new(format!("mem://{id}")).unwrap(),
                b("main"),
            )
            .await
            .unwrap();
    }
    let page = f.engine.list_repositories("al", None, 1).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.has_more);
    assert_eq!(page.next_offset, "alpha");
    let page = f
        .engine
        .list_repositories("al", Some("alpha"), 10)
        .await
        .unwrap();
    let ids: Vec<_> = page.items.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(ids, ["alpine"]);
    assert!(!page.has_more);
    f.put("main", "x", "1").await;
    f.engine.delete_repository(&f.repo).await.unwrap();
    assert!(matches!(
        f.engine.get_repository(&f.repo).await,
        Err(Error::NotFound {
            entity: Entity::Repository,
            ..
        })
    ));
    assert!(matches!(
        f.engine.delete_repository(&f.repo).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn ref_expressions_walk_parents_and_resolve_tags() {
    let f = fixture().await;
    f.put("main", "x", "1").await;
    let c1 = f.commit("main", "1").await;
    f.put("main", "x", "2").await;
    let c2 = f.commit("main", "2").await;
    let tag = f
        .engine
        .create_tag(&f.repo, TagName::new("v1").unwrap(), "main~1")
        .await
        .unwrap();
    assert_eq!(tag.commit_id, c1.id);
    assert_eq!(f.read("v1", "x").await.as_deref(), Some("1"));
    assert_eq!(
        f.engine.get_commit(&f.repo, "main^").await.unwrap().id,
        c1.id
    );
    assert_eq!(
        f.engine.get_commit(&f.repo, "main^0").await.unwrap().id,
        c2.id
    );
    assert_eq!(
        f.engine
            .get_commit(&f.repo, "main~2")
            .await
            .unwrap()
            .message,
        "Repository created"
    );
    assert!(matches!(
        f.engine.get_commit(&f.repo, "main~3").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        f.engine.get_commit(&f.repo, "main^2").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        f.engine.get_commit(&f.repo, "main$").await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        f.engine.get_commit(&f.repo, "v1@").await,
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        f.engine.get_commit(&f.repo, "nope").await,
        Err(Error::NotFound {
            entity: Entity::Ref,
            ..
        })
    ));
    let dup = f
        .engine
        .create_tag(&f.repo, TagName::new("v1").unwrap(), "main")
        .await;
    assert!(matches!(
        dup,
        Err(Error::AlreadyExists {
            entity: Entity::Tag,
            ..
        })
    ));
    f.engine
        .delete_tag(&f.repo, &TagName::new("v1").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        f.engine
            .get_tag(&f.repo, &TagName::new("v1").unwrap())
            .await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn branches_are_created_listed_and_deleted_but_never_the_default() {
    let f = fixture().await;
    f.put("main", "x", "1").await;
    f.commit("main", "1").await;
    f.put("main", "uncommitted", "1").await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    assert_eq!(f.read("dev", "x").await.as_deref(), Some("1"));
    assert_eq!(
        f.read("dev", "uncommitted").await,
        None,
        "a new branch starts from the commit"
    );
    let dup = f.engine.create_branch(&f.repo, b("dev"), "main").await;
    assert!(matches!(
        dup,
        Err(Error::AlreadyExists {
            entity: Entity::Branch,
            ..
        })
    ));
    let names: Vec<_> = f
        .engine
        .list_branches(&f.repo, "", None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|b| b.name.to_string())
        .collect();
    assert_eq!(names, ["dev", "main"]);
    assert!(matches!(
        f.engine.delete_branch(&f.repo, &b("main")).await,
        Err(Error::DefaultBranch(_))
    ));
    f.engine.delete_branch(&f.repo, &b("dev")).await.unwrap();
    assert!(matches!(
        f.engine.get_branch(&f.repo, &b("dev")).await,
        Err(Error::NotFound {
            entity: Entity::Branch,
            ..
        })
    ));
}

#[tokio::test]
async fn reset_drops_all_one_path_or_a_prefix() {
    let f = fixture().await;
    for path in ["a/1", "a/2", "b", "c"] {
        f.put("main", path, "v").await;
    }
    f.engine
        .reset_branch(&f.repo, &b("main"), ResetScope::Object(p("b")))
        .await
        .unwrap();
    assert_eq!(f.list("main", "", None).await, ["a/1", "a/2", "c"]);
    f.engine
        .reset_branch(&f.repo, &b("main"), ResetScope::Prefix("a/".into()))
        .await
        .unwrap();
    assert_eq!(f.list("main", "", None).await, ["c"]);
    f.engine
        .reset_branch(&f.repo, &b("main"), ResetScope::All)
        .await
        .unwrap();
    assert!(f.list("main", "", None).await.is_empty());
}

#[tokio::test]
async fn hard_reset_moves_a_clean_branch_only() {
    let f = fixture().await;
    f.put("main", "x", "1").await;
    let c1 = f.commit("main", "1").await;
    f.put("main", "x", "2").await;
    f.commit("main", "2").await;
    f.put("main", "dirty", "1").await;
    let dirty = f
        .engine
        .hard_reset_branch(&f.repo, &b("main"), "main~1")
        .await;
    assert!(matches!(dirty, Err(Error::DirtyBranch)));
    f.engine
        .reset_branch(&f.repo, &b("main"), ResetScope::All)
        .await
        .unwrap();
    let moved = f
        .engine
        .hard_reset_branch(&f.repo, &b("main"), "main~1")
        .await
        .unwrap();
    assert_eq!(moved.commit_id, c1.id);
    assert_eq!(f.read("main", "x").await.as_deref(), Some("1"));
}

#[tokio::test]
async fn read_only_repositories_refuse_writes() {
    let f = fixture().await;
    let ro = RepositoryId::new("readonly").unwrap();
    let ns = StorageNamespace::new("mem://ro").unwrap();
    let repo = f
        .engine
        .create_repository_with(ro.clone(), ns, b("main"), true)
        .await
        .unwrap();
    assert!(repo.read_only);
    let w = f
        .engine
        .stage_object(&ro, &b("main"), &p("x"), entry("1"))
        .await;
    assert!(matches!(w, Err(Error::ReadOnlyRepository(_))), "{w:?}");
    let c = f
        .engine
        .commit(
            &ro,
            &b("main"),
            CommitRequest {
                allow_empty: true,
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(c, Err(Error::ReadOnlyRepository(_))));
    let br = f.engine.create_branch(&ro, b("dev"), "main").await;
    assert!(matches!(br, Err(Error::ReadOnlyRepository(_))));
    let listed = f
        .engine
        .list_objects(
            &ro,
            "main",
            &ListRequest {
                amount: 10,
                ..Default::default()
            },
        )
        .await;
    assert!(listed.unwrap().items.is_empty(), "reads still work");
}

#[tokio::test]
async fn protected_branches_refuse_writes_commits_and_resets_but_take_merges() {
    let f = fixture().await;
    f.engine
        .create_branch(&f.repo, b("dev"), "main")
        .await
        .unwrap();
    f.put("main", "before", "1").await;
    let rules = f.engine.branch_protection(&f.repo).await.unwrap();
    assert!(rules.patterns.is_empty());
    f.engine
        .set_branch_protection(&f.repo, vec!["ma*".into()], Some(&rules.etag))
        .await
        .unwrap();
    let stale = f
        .engine
        .set_branch_protection(&f.repo, vec![], Some(&rules.etag))
        .await;
    assert!(matches!(stale, Err(Error::PreconditionFailed)), "{stale:?}");
    let write = f
        .engine
        .stage_object(&f.repo, &b("main"), &p("x"), entry("1"))
        .await;
    assert!(
        matches!(write, Err(Error::ProtectedBranch { .. })),
        "{write:?}"
    );
    let delete = f
        .engine
        .delete_object(&f.repo, &b("main"), &p("before"))
        .await;
    assert!(matches!(delete, Err(Error::ProtectedBranch { .. })));
    let commit = f
        .engine
        .commit(
            &f.repo,
            &b("main"),
            CommitRequest {
                message: "m".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(commit, Err(Error::ProtectedBranch { .. })));
    let reset = f
        .engine
        .reset_branch(&f.repo, &b("main"), ResetScope::All)
        .await;
    assert!(matches!(reset, Err(Error::ProtectedBranch { .. })));
    f.put("dev", "feature", "1").await;
    f.commit("dev", "feature").await;
    f.engine
        .set_branch_protection(&f.repo, vec!["main".into()], None)
        .await
        .unwrap();
    // The uncommitted 'before' makes main dirty: drop the rule, reset, protect again.
    f.engine
        .set_branch_protection(&f.repo, vec![], None)
        .await
        .unwrap();
    f.engine
        .reset_branch(&f.repo, &b("main"), ResetScope::All)
        .await
        .unwrap();
    f.engine
        .set_branch_protection(&f.repo, vec!["main".into()], None)
        .await
        .unwrap();
    f.engine
        .merge(&f.repo, "dev", &b("main"), MergeRequest::default())
        .await
        .unwrap();
    assert_eq!(
        f.read("main", "feature").await.as_deref(),
        Some("1"),
        "merges into a protected branch are allowed"
    );
    let bad = f
        .engine
        .set_branch_protection(&f.repo, vec![String::new()], None)
        .await;
    assert!(matches!(bad, Err(Error::InvalidInput { .. })));
}

#[tokio::test]
async fn hidden_branches_are_listed_only_when_asked_for() {
    let f = fixture().await;
    f.engine
        .create_branch_with(&f.repo, b("tx-1"), "main", true)
        .await
        .unwrap();
    f.engine
        .create_branch(&f.repo, b("visible"), "main")
        .await
        .unwrap();
    let names = |page: Page<tarn_model::Branch>| -> Vec<String> {
        page.items.into_iter().map(|b| b.name.to_string()).collect()
    };
    let shown = f.engine.list_branches(&f.repo, "", None, 10).await.unwrap();
    assert_eq!(names(shown), ["main", "visible"]);
    let all = f
        .engine
        .list_branches_with(&f.repo, "", None, 10, true)
        .await
        .unwrap();
    assert_eq!(names(all), ["main", "tx-1", "visible"]);
    assert!(
        f.engine
            .get_branch(&f.repo, &b("tx-1"))
            .await
            .unwrap()
            .hidden
    );
}
