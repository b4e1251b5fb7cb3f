//! Black-box tests of the S3 gateway's listeners: on the API's port it is
//! chosen by AWS signature; on a dedicated port every request is S3.

use crate::support;

use support::TarnProcess;
use tarn_s3_protocol::sigv4;

const KEY: &str = "AKIAIOSFOLQUICKSTART";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A SigV4-signed request (header form), as any SDK would send it: `extra`
/// headers are sent and signed, `payload_hash` is the declared body hash.
pub(crate) fn signed(
    method: reqwest::Method,
    url: &str,
    extra: &[(&str, &str)],
    payload_hash: &str,
) -> reqwest::RequestBuilder {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut headers = vec![("host".to_owned(), host)];
    headers.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let (date, auth) = sigv4::sign_header(
        method.as_str(),
        parsed.path(),
        parsed.query().unwrap_or(""),
        &headers,
        payload_hash,
        KEY,
        SECRET,
        "us-east-1",
        now,
    );
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("x-amz-content-sha256", payload_hash)
        .header("x-amz-date", date)
        .header("authorization", auth);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req
}

/// A signed, body-less GET with an unsigned payload.
fn signed_get(url: &str) -> reqwest::RequestBuilder {
    signed(reqwest::Method::GET, url, &[], sigv4::UNSIGNED_PAYLOAD)
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
    // An unsigned request is not S3 on the API port: it is a page of the UI.
    let content_type = anonymous.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(!anonymous.text().await.unwrap().contains("<Error>"));
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

/// A signed PUT of `body` with extra headers (signed too) and a payload hash.
fn signed_put(
    url: &str,
    body: &'static [u8],
    extra: &[(&str, &str)],
    payload_hash: &str,
) -> reqwest::RequestBuilder {
    signed(reqwest::Method::PUT, url, extra, payload_hash).body(body)
}

/// Headers, payload hash, and the S3 error code expected.
type DigestCase = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

#[tokio::test]
async fn bodies_that_fail_their_digests_are_refused_and_not_stored() {
    let tarn = TarnProcess::quickstart().await;
    support::create_repository(&tarn, "digests").await;
    let url = format!("{}/digests/main/file.txt", tarn.url);
    let cases: [DigestCase; 3] = [
        // base64 MD5 of "other".
        (
            &[("content-md5", "eV8yArF8trw9S3cdjGyerw==")],
            sigv4::UNSIGNED_PAYLOAD,
            "BadDigest",
        ),
        // CRC32 of "other", not of "hello".
        (
            &[("x-amz-checksum-crc32", "AAAAAA==")],
            sigv4::UNSIGNED_PAYLOAD,
            "BadDigest",
        ),
        (
            &[],
            "0000000000000000000000000000000000000000000000000000000000000000",
            "XAmzContentSHA256Mismatch",
        ),
    ];
    for (headers, payload, want) in cases {
        let resp = signed_put(&url, b"hello", headers, payload)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{want}");
        let text = resp.text().await.unwrap();
        assert!(
            text.contains(&format!("<Code>{want}</Code>")),
            "{want}: {text}"
        );
    }
    let stat = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/repositories/digests/refs/main/objects/stat?path=file.txt",
            tarn.url
        ))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(stat.status(), 404, "nothing was stored");
    // The right digests pass.
    let md5 = "XUFAKrxLKna5cZ2REBfFkg=="; // base64 MD5 of "hello"
    let resp = signed_put(
        &url,
        b"hello",
        &[("content-md5", md5)],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
}

/// A PUT streamed without a length (chunked transfer encoding) is read to
/// its end exactly once, its Content-MD5 checked there: right, it is stored
/// whole; wrong, nothing is.
#[tokio::test]
async fn chunked_puts_without_a_length_are_checked_and_stored_whole() {
    let tarn = TarnProcess::quickstart().await;
    support::create_repository(&tarn, "chunked").await;
    // Over two parts of the S3 store's (8 MiB), in chunks of 7919 bytes.
    let data: Vec<u8> = (0..(17 << 20) + 17).map(|i| (i % 253) as u8).collect();
    let body = |data: Vec<u8>| {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            data.chunks(7919).map(|c| Ok(c.to_vec())).collect();
        reqwest::Body::wrap_stream(futures::stream::iter(chunks))
    };
    use base64::Engine as _;
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5_of(&data));
    let url = format!("{}/chunked/main/streamed.bin", tarn.url);
    let wrong = "XUFAKrxLKna5cZ2REBfFkg=="; // MD5 of "hello"
    let resp = signed(
        reqwest::Method::PUT,
        &url,
        &[("content-md5", wrong)],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .body(body(data.clone()))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("<Code>BadDigest</Code>"));
    assert_eq!(signed_get(&url).send().await.unwrap().status(), 404);
    let resp = signed(
        reqwest::Method::PUT,
        &url,
        &[("content-md5", &md5)],
        sigv4::UNSIGNED_PAYLOAD,
    )
    .body(body(data.clone()))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let got = signed_get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got == data, "stored whole");
}

fn md5_of(data: &[u8]) -> Vec<u8> {
    use md5::Digest;
    md5::Md5::digest(data).to_vec()
}
