//! Fixed sequences run through the model test's harness: cases the
//! generator found once, and paths it rarely reaches (compaction, merges of
//! layers over one base).

use super::*;

/// Runs a fixed sequence on layered trees (staging read two entries at a
/// time); what it did to them.
fn run_layered(ops: Vec<Op>, layering: TreeLayering) -> Tally {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run_with(ops, 2, Some(layering)))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a fixed sequence through the same harness and checks.
fn scenario(ops: Vec<Op>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for staging_page in [2, 1024] {
        if let Err(e) = rt.block_on(run(ops.clone(), staging_page)) {
            panic!("staging page {staging_page}: {e}");
        }
    }
}

fn stage(branch: &'static str, path: &'static str, content: u8) -> Op {
    Op::Stage {
        branch,
        path,
        content,
    }
}

fn commit(branch: &'static str) -> Op {
    Op::Commit {
        branch,
        allow_empty: false,
    }
}

/// Both branches make the same change; merging one into the other changes no
/// path, but lakeFS still records the merge (its "no changes" is "the source's
/// tree is the base's"). Without the merge commit the merge base stays
/// behind, and a later change of the same path on the source conflicts with
/// the destination's copy instead of merging cleanly.
#[test]
fn merging_changes_the_destination_already_has_still_commits() {
    scenario(vec![
        stage("main", "b/x", 0),
        commit("main"),
        stage("dev", "b/x", 0),
        commit("dev"),
        Op::Merge {
            source: Target::Branch("main", 0),
            dest: "dev",
            strategy: MergeStrategy::None,
            squash: false,
            allow_empty: false,
        },
    ]);
}

/// A source whose tree is empty again, merged into a branch still at the
/// repository's first commit, makes a merge commit (lakeFS's first commit has
/// no metarange id, so no other commit's tree equals it); merging the first
/// commit itself still has no changes.
#[test]
fn merging_an_emptied_source_into_the_first_commit_commits() {
    scenario(vec![
        stage("dev", "a", 1),
        commit("dev"),
        Op::Delete {
            branch: "dev",
            path: "a",
        },
        commit("dev"),
        Op::Merge {
            source: Target::Branch("dev", 0),
            dest: "main",
            strategy: MergeStrategy::None,
            squash: false,
            allow_empty: false,
        },
    ]);
}

/// lakeFS's cherry-pick keeps the picked commit's metadata and adds
/// `cherry-pick-origin` and `cherry-pick-committer`.
#[test]
fn cherry_pick_records_its_origin() {
    scenario(vec![
        stage("dev", "a", 1),
        commit("dev"),
        Op::CherryPick {
            branch: "main",
            target: Target::Branch("dev", 0),
            parent: None,
        },
    ]);
}

/// Merging a branch into itself (the same name) is refused whatever
/// `allow_empty` says; its head commit by another name is an ordinary merge
/// that has nothing to bring.
#[test]
fn merging_a_branch_into_itself_is_invalid() {
    let merge = |source, allow_empty| Op::Merge {
        source,
        dest: "main",
        strategy: MergeStrategy::None,
        squash: false,
        allow_empty,
    };
    scenario(vec![
        stage("main", "a", 1),
        commit("main"),
        merge(Target::Branch("main", 0), false),
        merge(Target::Branch("main", 0), true),
        merge(Target::Committed("main"), false),
        merge(Target::Commit(0), false),
    ]);
}

/// A delimited listing reads staging a folder's first entry at a time; here
/// the folder `b/`'s first staged entry is a tombstone hiding the committed
/// `b/x`, and the folder shows only because of `b/y`, staged after it.
#[test]
fn a_folder_whose_first_staged_entry_is_a_tombstone_still_lists() {
    scenario(vec![
        stage("main", "b/x", 0),
        commit("main"),
        Op::Delete {
            branch: "main",
            path: "b/x",
        },
        stage("main", "b/y", 0),
    ]);
}

/// A newer token's tombstone shadows a sealed token's first entry of the
/// folder `a/`; the sealed token's next entry in it keeps the folder listed.
#[test]
fn sealed_tokens_shadowed_by_newer_ones_still_list() {
    scenario(vec![
        stage("main", "a/b", 0),
        stage("main", "a/c", 1),
        Op::Seal { branch: "main" },
        Op::Delete {
            branch: "main",
            path: "a/b",
        },
        Op::Seal { branch: "main" },
        stage("main", "b/x", 2),
    ]);
}

/// Layers folded off the commit path, then commits onto the folded trees,
/// a merge into a folded branch, and a second fold: every read, listing,
/// diff and log agrees with the model throughout.
#[test]
fn compacted_layers_read_and_take_commits_as_before() {
    let layering = TreeLayering {
        min_base_records: 0,
        max_overlay_records: 8,
        compact_records: 2,
    };
    let ops = vec![
        stage("main", "a", 1),
        stage("main", "b/x", 1),
        commit("main"),
        stage("main", "a", 2),
        stage("main", "b/y", 0),
        Op::Delete {
            branch: "main",
            path: "b/x",
        },
        commit("main"),
        Op::Compact,
        stage("main", "c", 3),
        commit("main"),
        stage("dev", "b/z", 2),
        stage("dev", "d", 1),
        commit("dev"),
        Op::Compact,
        Op::Merge {
            source: Target::Branch("main", 0),
            dest: "dev",
            strategy: MergeStrategy::None,
            squash: false,
            allow_empty: false,
        },
        stage("dev", "a", 0),
        commit("dev"),
        Op::Compact,
        stage("dev", "e", 0),
        commit("dev"),
    ];
    let folded = run_layered(ops, layering).compacted;
    assert!(folded >= 3, "layers folded: {folded}");
}

/// `main` with four paths, committed, then folded: later layers lie over
/// a base that holds records.
fn folded_main() -> Vec<Op> {
    vec![
        stage("main", "a", 1),
        stage("main", "b/x", 1),
        stage("main", "c", 1),
        stage("main", "d/g", 1),
        commit("main"),
        Op::Compact,
    ]
}

/// `feat` from `main`, with a change, an addition and a removal, committed.
fn feat_from_main() -> Vec<Op> {
    vec![
        Op::CreateBranch {
            name: "feat",
            from: Target::Branch("main", 0),
        },
        stage("feat", "a", 2),
        stage("feat", "e", 1),
        Op::Delete {
            branch: "feat",
            path: "c",
        },
        commit("feat"),
    ]
}

/// Merges between layers over one base, resolved from their overlays: the
/// changes the destination left alone, a removal, a conflict and its
/// resolution agree with the model.
#[test]
fn merges_of_layers_over_one_base_agree_with_the_model() {
    // Layers from the first commit, folded only by `Op::Compact`, so that
    // the base the layers lie over holds records after the first fold.
    let layering = TreeLayering {
        min_base_records: 0,
        max_overlay_records: 100,
        compact_records: 1,
    };
    let merge = |strategy| Op::Merge {
        source: Target::Branch("feat", 0),
        dest: "main",
        strategy,
        squash: false,
        allow_empty: false,
    };
    let mut ops = folded_main();
    ops.extend([stage("main", "a/b", 1), commit("main")]);
    ops.extend(feat_from_main());
    ops.extend([
        stage("main", "b/y", 1),
        commit("main"),
        merge(MergeStrategy::None),
        stage("feat", "d/g", 2),
        stage("feat", "b/x", 1),
        commit("feat"),
        stage("main", "d/g", 3),
        commit("main"),
        merge(MergeStrategy::None),
        merge(MergeStrategy::DestWins),
        stage("feat", "d/g", 0),
        commit("feat"),
        merge(MergeStrategy::SourceWins),
    ]);
    let folded = run_layered(ops, layering).compacted;
    assert!(folded >= 1, "the first layer was folded: {folded}");
}

/// Base values written at branch heads, then diffs, commits onto the
/// described trees (whose own base values reuse their parents'), a merge and
/// a fold: every read, listing, diff and log agrees with the model, with
/// and without base values.
#[test]
fn described_layers_diff_as_the_model_says() {
    let layering = TreeLayering {
        min_base_records: 0,
        max_overlay_records: 100,
        compact_records: 1,
    };
    let describe = |branch| Op::Describe { branch };
    let mut ops = folded_main();
    ops.extend(feat_from_main());
    ops.extend([
        describe("feat"),
        stage("main", "b/x", 2),
        stage("main", "f", 1),
        commit("main"),
        describe("main"),
        stage("feat", "d/g", 2),
        stage("feat", "a", 1),
        commit("feat"),
        describe("feat"),
        Op::Merge {
            source: Target::Branch("feat", 0),
            dest: "main",
            strategy: MergeStrategy::None,
            squash: false,
            allow_empty: false,
        },
        describe("main"),
        Op::Delete {
            branch: "main",
            path: "e",
        },
        commit("main"),
        describe("main"),
        Op::Compact,
        stage("main", "g", 1),
        commit("main"),
        describe("main"),
    ]);
    let tally = run_layered(ops, layering);
    assert!(tally.described >= 5, "trees described: {}", tally.described);
}
