//! Failure paths against a scripted HTTP server on loopback: throttling and
//! 5xx answers are retried with backoff, client errors are not, and what
//! remains maps to the port's kinds.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tarn_adapter_s3::{S3BlockStore, S3Settings};
use tarn_model::{BlockKey, StorageNamespace};
use tarn_ports::{BlockStore, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `answers` in turn (the last one again once they run out), one per
/// connection; returns the endpoint and the count of requests served.
async fn scripted(answers: Vec<String>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let answer = answers[n.min(answers.len() - 1)].clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (endpoint, served)
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn error(status: &str, code: &str) -> String {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>scripted</Message></Error>");
    response(status, &[("Content-Type", "application/xml")], &body)
}

fn ok_body(body: &str) -> String {
    response(
        "200 OK",
        &[
            ("ETag", "\"5d41402abc4b2a76b9719d911017c592\""),
            ("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT"),
            ("Content-Type", "application/octet-stream"),
        ],
        body,
    )
}

async fn store(endpoint: String) -> S3BlockStore {
    S3BlockStore::connect(&S3Settings {
        endpoint: Some(endpoint),
        force_path_style: true,
        access_key_id: Some("AKIAEXAMPLEEXAMPLE00".into()),
        secret_access_key: Some("secret".into()),
        max_attempts: 3,
        ..S3Settings::default()
    })
    .await
    .unwrap()
}

fn at() -> (StorageNamespace, BlockKey) {
    (
        StorageNamespace::new("s3://bucket/prefix").unwrap(),
        BlockKey::new("data/key").unwrap(),
    )
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let (endpoint, served) = scripted(vec![
        error("503 Slow Down", "SlowDown"),
        error("500 Internal Server Error", "InternalError"),
        ok_body("hello"),
    ])
    .await;
    let (ns, key) = at();
    let got = store(endpoint).await.get(&ns, &key, None).await.unwrap();
    let body = got.body.collect_bounded(1024).await.unwrap();
    assert_eq!(&body[..], b"hello");
    assert_eq!(got.meta.etag, "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(served.load(Ordering::SeqCst), 3, "two retries");
}

#[tokio::test]
async fn persistent_server_errors_end_as_unavailable_after_the_attempts() {
    let (endpoint, served) =
        scripted(vec![error("503 Service Unavailable", "ServiceUnavailable")]).await;
    let (ns, key) = at();
    let err = store(endpoint).await.head(&ns, &key).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(served.load(Ordering::SeqCst), 3, "max_attempts requests");
}

#[tokio::test]
async fn client_errors_are_not_retried_and_map_to_kinds() {
    let cases = [
        (error("404 Not Found", "NoSuchKey"), ErrorKind::NotFound),
        (
            error("416 Requested Range Not Satisfiable", "InvalidRange"),
            ErrorKind::InvalidRange,
        ),
        (error("403 Forbidden", "AccessDenied"), ErrorKind::Internal),
    ];
    for (answer, kind) in cases {
        let (endpoint, served) = scripted(vec![answer]).await;
        let (ns, key) = at();
        let res = store(endpoint).await.get(&ns, &key, None).await;
        let err = res.map(|_| ()).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(served.load(Ordering::SeqCst), 1, "{kind:?} is not retried");
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (ns, key) = at();
    let err = store(endpoint).await.head(&ns, &key).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}
