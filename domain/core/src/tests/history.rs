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
