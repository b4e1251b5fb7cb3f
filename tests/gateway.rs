//! Black-box tests of the S3 gateway's listeners: on the API's port it is
//! chosen by AWS signature; on a dedicated port every request is S3.

#![allow(clippy::unwrap_used)]

mod support;

use support::TarnProcess;
use tarn_s3_protocol::sigv4;

const KEY: &str = "AKIAIOSFOLQUICKSTART";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Signs a body-less GET with SigV4 (header form), as any SDK would.
fn signed_get(url: &str) -> reqwest::RequestBuilder {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let headers = vec![("host".to_owned(), host)];
    let query = parsed.query().unwrap_or("");
    let (date, auth) = sigv4::sign_header(
        "GET",
        parsed.path(),
        query,
        &headers,
        sigv4::UNSIGNED_PAYLOAD,
        KEY,
        SECRET,
        "us-east-1",
        now,
    );
    reqwest::Client::new()
        .get(url)
        .header("x-amz-content-sha256", sigv4::UNSIGNED_PAYLOAD)
        .header("x-amz-date", date)
        .header("authorization", auth)
}

#[tokio::test]
async fn signed_requests_reach_the_gateway_on_the_api_port() {
    let tarn = TarnProcess::quickstart().await;
    let resp = signed_get(&format!("{}/", tarn.url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.contains("<ListAllMyBucketsResult"), "{body}");
    let anonymous = reqwest::get(format!("{}/some-bucket/main/key", tarn.url))
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        404,
        "an unsigned request is not S3 on the API port"
    );
}

#[tokio::test]
async fn a_dedicated_gateway_port_takes_every_request_as_s3() {
    let tarn =
        TarnProcess::quickstart_with(&[("TARN_GATEWAYS__S3__LISTEN_ADDRESS", "127.0.0.1:0")]).await;
    let gateway = tarn
        .gateway_url()
        .expect("the banner names the gateway address");
    let anonymous = reqwest::get(format!("{gateway}/")).await.unwrap();
    assert_eq!(anonymous.status(), 403);
    assert!(anonymous
        .text()
        .await
        .unwrap()
        .contains("<Code>AccessDenied</Code>"));
    let resp = signed_get(&format!("{gateway}/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let health = reqwest::get(format!("{gateway}/_health")).await.unwrap();
    assert_eq!(health.status(), 403, "the API is not on the gateway port");
}
