//! Engine tests: history.

use super::*;

#[tokio::test]
async fn log_follows_generations_filters_and_pages() {
    let f = fixture().await;
    f.put("main", "a/1", "1").await;
    let c1 = f.commit("main", "c1").await;
    f.put("main", "b", "1").await;
    let c2 = f.commit("main", "c2").await;
    f.put("main", "a/1", "2").await;
    let c3 = f.commit("main", "c3").await;
    let all = f
        .engine
        .log(
            &f.repo,
            "main",
            &LogRequest {
                amount: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<_> = all.items.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(&ids[..3], [c3.id.clone(), c2.id.clone(), c1.id.clone()]);
    let page = f
        .engine
        .log(
            &f.repo,
            "main",
            &LogRequest {
                amount: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(page.has_more);
    let next = f
        .engine
        .log(
            &f.repo,
            "main",
            &LogRequest {
                amount: 1,
                after: Some(page.next_offset),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].id, c2.id);
    let by_prefix = LogRequest {
        amount: 10,
        prefixes: vec!["a/".into()],
        ..Default::default()
    };
    let hits: Vec<_> = f
        .engine
        .log(&f.repo, "main", &by_prefix)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(hits, [c3.id.clone(), c1.id.clone()]);
    let by_object = LogRequest {
        amount: 10,
        objects: vec![p("b")],
        ..Default::default()
    };
    let hits: Vec<_> = f
        .engine
        .log(&f.repo, "main", &by_object)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(hits, std::slice::from_ref(&c2.id));
    let stop = LogRequest {
        amount: 10,
        stop_at: Some(c2.id.to_string()),
        ..Default::default()
    };
    assert_eq!(
        f.engine
            .log(&f.repo, "main", &stop)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

/// Lookups of committed trees (metaranges) an engine has made.
fn tree_reads(engine: &Engine) -> u64 {
    engine
        .cache_stats()
        .iter()
        .filter(|s| s.cache == "metaranges")
        .map(|s| s.hits + s.misses)
        .sum()
}

#[tokio::test]
async fn a_filtered_log_reads_trees_only_where_summaries_cannot_say_no() {
    let f = fixture().await;
    let mut rare = Vec::new();
    for i in 0..60 {
        f.put("main", &format!("data/part-{}", i % 7), &i.to_string())
            .await;
        if i % 20 == 10 {
            f.put("main", &format!("rare/file-{i}"), "x").await;
        }
        let c = f.commit("main", &format!("c{i}")).await;
        if i % 20 == 10 {
            rare.push(c.id);
        }
    }
    // A record added from outside carries no summary: its trees decide.
    f.engine
        .create_branch(&f.repo, b("side"), "main~1")
        .await
        .unwrap();
    f.put("side", "rare/outside", "y").await;
    let side = f.commit("side", "side").await;
    let head = f.engine.get_commit(&f.repo, "main").await.unwrap();
    let mut record = tarn_model::Commit {
        id: head.id.clone(),
        committer: "tester".into(),
        message: "added from outside".into(),
        meta_range_id: side.meta_range_id.clone(),
        creation_date: head.creation_date,
        metadata: Default::default(),
        parents: vec![head.id.clone()],
        generation: head.generation + 1,
        version: 1,
    };
    record.id = crate::commits::content_address(&record);
    let outside = record.id.clone();
    f.engine
        .create_commit_record(&f.repo, record, false)
        .await
        .unwrap();
    // A fresh engine: nothing cached.
    let engine = Engine::new(f.engine.stores().clone(), EngineSettings::default());
    let req = LogRequest {
        amount: 100,
        prefixes: vec!["rare/".into()],
        ..Default::default()
    };
    let hits: Vec<_> = engine
        .log(&f.repo, outside.as_str(), &req)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut want = vec![outside.clone()];
    want.extend(rare.iter().rev().cloned());
    assert_eq!(hits, want);
    // Two trees per commit that may match (the commit's and its parent's),
    // four of them: not two per commit of the history (124).
    let reads = tree_reads(&engine);
    assert!(reads <= 8, "{reads} tree reads");
    assert!(reads >= 2, "the record without a summary is read");
    let req = LogRequest {
        amount: 100,
        objects: vec![p("rare/file-30")],
        ..Default::default()
    };
    let engine = Engine::new(f.engine.stores().clone(), EngineSettings::default());
    let hits = engine.log(&f.repo, "main", &req).await.unwrap().items;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, rare[1]);
    assert!(
        tree_reads(&engine) <= 2,
        "{} tree reads",
        tree_reads(&engine)
    );
}
