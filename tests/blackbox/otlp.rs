//! Spans exported over OTLP/HTTP: a request, the engine operation it runs,
//! and the database and block store calls under it arrive at a collector as
//! one trace, nested as they ran.

use crate::support::api::Api;
use crate::support::receiver::Receiver;
use crate::support::{Run, TarnProcess};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use reqwest::Client;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Every span the collector has received, by span id.
fn received(collector: &Receiver) -> HashMap<Vec<u8>, Span> {
    let mut spans = HashMap::new();
    for r in collector.received() {
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("POST", "/v1/traces")
        );
        let ct = r.headers.iter().find(|(k, _)| k == "content-type");
        assert_eq!(ct.map(|(_, v)| v.as_str()), Some("application/x-protobuf"));
        let export = ExportTraceServiceRequest::decode(r.raw.as_slice()).unwrap();
        for resource in export.resource_spans {
            let attributes = resource.resource.unwrap_or_default().attributes;
            let service = attributes.iter().find(|a| a.key == "service.name");
            assert!(
                format!("{service:?}").contains("\"tarn-under-test\""),
                "{service:?}"
            );
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.insert(span.span_id.clone(), span);
                }
            }
        }
    }
    spans
}

/// The value of string attribute `key` of `span`.
fn attribute(span: &Span, key: &str) -> Option<String> {
    let kv = span.attributes.iter().find(|a| a.key == key)?;
    match kv.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// The names of `span` and of every span above it, nearest first.
fn ancestry(spans: &HashMap<Vec<u8>, Span>, span: &Span) -> Vec<String> {
    let mut names = vec![span.name.clone()];
    let mut parent = span.parent_span_id.clone();
    while let Some(p) = spans.get(&parent) {
        assert_eq!(p.trace_id, span.trace_id, "a parent in another trace");
        names.push(p.name.clone());
        parent = p.parent_span_id.clone();
    }
    names
}

#[tokio::test]
async fn spans_reach_an_otlp_collector_nested_as_they_ran() {
    if Run::skip_unless(&[Run::DEFAULT, Run::SQLITE], "the memory and SQL runs") {
        return;
    }
    // The memory database makes no calls to trace.
    let sql = Run::current() == Run::SQLITE;
    let collector = Receiver::start().await;
    let tarn = TarnProcess::quickstart_with(&[
        ("TARN_TRACING__OTLP_ENDPOINT", collector.url.as_str()),
        ("TARN_TRACING__SERVICE_NAME", "tarn-under-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    let api = Api {
        tarn,
        http: Client::new(),
    };
    api.repo("traced").await;
    api.upload("traced", "main", "a/file", "traced bytes").await;
    api.commit("traced", "main", "traced commit").await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let (spans, commit) = loop {
        let spans = received(&collector);
        let commit = spans.values().find(|s| s.name == "commit").cloned();
        if let Some(c) = commit {
            let under_commit = |s: &Span| ancestry(&spans, s).iter().any(|n| n == "commit");
            let put = spans
                .values()
                .any(|s| s.name == "blockstore put" && under_commit(s));
            let db = !sql || spans.values().any(|s| s.name == "db" && under_commit(s));
            if put && db {
                break (spans, c);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no commit with its calls arrived: {:?}",
            spans
                .values()
                .map(|s| ancestry(&spans, s))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The commit ran under its request, the root of the trace.
    let chain = ancestry(&spans, &commit);
    let root = chain.last().unwrap();
    assert_eq!(
        root, "POST /api/v1/repositories/{repository}/branches/{branch}/commits",
        "{chain:?}"
    );
    let request = spans.values().find(|s| &s.name == root).unwrap();
    assert_eq!(
        attribute(request, "tarn.operation").as_deref(),
        Some("commit")
    );
    assert_eq!(attribute(request, "tarn.driver").as_deref(), Some("api"));
    assert_eq!(attribute(&commit, "repo").as_deref(), Some("traced"));
    assert!(commit.end_time_unix_nano > commit.start_time_unix_nano);
    // The upload's block store write (to a fresh key) is in the upload's
    // own trace.
    let upload_put = spans.values().find(|s| {
        s.name == "blockstore put_fresh"
            && ancestry(&spans, s)
                .last()
                .is_some_and(|r| r.ends_with("/objects"))
    });
    assert!(upload_put.is_some(), "the upload's write was not traced");
    assert!(upload_put.unwrap().trace_id != commit.trace_id);
}

#[tokio::test]
async fn an_unusable_otlp_endpoint_stops_the_start() {
    if Run::skip_unless(&[Run::DEFAULT], "configuration, the same on every backend") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (endpoint, says) in [
        ("localhost:4318", "http:// or https://"),
        ("not a url", "is no URL"),
    ] {
        let env = [("TARN_TRACING__OTLP_ENDPOINT", endpoint)];
        let (ok, _, err) =
            crate::support::run_cli(&["run", "--quickstart"], dir.path(), "", &env).await;
        assert!(!ok, "started with {endpoint}");
        assert!(
            err.contains("tracing.otlp_endpoint") && err.contains(says),
            "{err}"
        );
    }
}
