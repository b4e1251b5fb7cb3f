//! Tests of `sigv4`.

use super::*;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
/// 2013-05-24T00:00:00Z.
const NOW: i64 = 1_369_353_600;
const HOST: &str = "examplebucket.s3.amazonaws.com";

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn authorization(signed_headers: &str, signature: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders={signed_headers},Signature={signature}")
}

fn req<'a>(
    method: &'a str,
    raw_path: &'a str,
    raw_query: &'a str,
    headers: &'a [(String, String)],
) -> SignedRequest<'a> {
    SignedRequest {
        method,
        raw_path,
        raw_query,
        headers,
    }
}

fn check(r: &SignedRequest, secret: &str, now: i64) -> Result<Verified, AuthError> {
    let auth = parse(r)?.expect("a SigV4 request");
    verify(&auth, r, secret, now)
}

fn get_object_headers(range: &str) -> Vec<(String, String)> {
    headers(&[
        ("host", HOST),
        ("range", range),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z "),
        (
            "authorization",
            &authorization(
                "host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
        ),
    ])
}

#[test]
fn aws_example_get_object() {
    let h = get_object_headers("bytes=0-9");
    let r = req("GET", "/test.txt", "", &h);
    let auth = parse(&r).unwrap().unwrap();
    assert_eq!(auth.access_key_id, AK);
    assert_eq!(auth.scope(), SCOPE);
    assert!(!auth.is_presigned());
    let canonical = canonical_request(&r, &auth.signed_headers, &auth.payload_hash, false);
    assert_eq!(
        canonical,
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        string_to_sign(AMZ_DATE, SCOPE, &canonical),
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    );
    let v = verify(&auth, &r, SECRET, NOW).unwrap();
    assert_eq!(v.payload, PayloadMode::Sha256(EMPTY_SHA256.to_owned()));
    assert_eq!(
        v.seed_signature,
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    assert_eq!(v.amz_date, AMZ_DATE);
    assert_eq!(v.scope, SCOPE);
}

fn put_object_headers() -> Vec<(String, String)> {
    headers(&[
        ("host", HOST),
        ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", AMZ_DATE),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "x-amz-content-sha256",
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        ),
        (
            "authorization",
            &authorization(
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            ),
        ),
    ])
}

#[test]
fn aws_example_put_object() {
    let h = put_object_headers();
    assert_eq!(
        sha256_hex(b"Welcome to Amazon S3."),
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    );
    // The client may send the '$' as is or percent-encoded: same canonical URI.
    for path in ["/test$file.text", "/test%24file.text"] {
        let v = check(&req("PUT", path, "", &h), SECRET, NOW).unwrap();
        assert_eq!(
            v.payload,
            PayloadMode::Sha256(
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072".to_owned()
            )
        );
    }
}

fn bucket_get_headers(signature: &str) -> Vec<(String, String)> {
    headers(&[
        ("host", HOST),
        ("x-amz-date", AMZ_DATE),
        ("x-amz-content-sha256", EMPTY_SHA256),
        (
            "authorization",
            &authorization("host;x-amz-content-sha256;x-amz-date", signature),
        ),
    ])
}

#[test]
fn aws_example_get_bucket_lifecycle() {
    let h = bucket_get_headers("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    assert_eq!(canonical_query("lifecycle", false), "lifecycle=");
    check(&req("GET", "/", "lifecycle", &h), SECRET, NOW).unwrap();
    check(&req("GET", "/", "lifecycle=", &h), SECRET, NOW).unwrap();
}

#[test]
fn aws_example_get_bucket_list_objects() {
    let h = bucket_get_headers("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    check(&req("GET", "/", "max-keys=2&prefix=J", &h), SECRET, NOW).unwrap();
    // The canonical query is sorted whatever the order sent.
    check(&req("GET", "/", "prefix=J&max-keys=2", &h), SECRET, NOW).unwrap();
    assert_eq!(
        check(&req("GET", "/", "max-keys=3&prefix=J", &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
}

const PRESIGNED_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
    &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
    &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
    &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

#[test]
fn aws_example_presigned_url() {
    let h = headers(&[("host", HOST)]);
    let r = req("GET", "/test.txt", PRESIGNED_QUERY, &h);
    let auth = parse(&r).unwrap().unwrap();
    assert_eq!(auth.access_key_id, AK);
    assert_eq!(auth.presigned_expires, Some(86_400));
    assert_eq!(auth.payload, PayloadMode::Unsigned);
    assert_eq!(
        canonical_request(&r, &auth.signed_headers, &auth.payload_hash, true),
        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
         host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    );
    let v = verify(&auth, &r, SECRET, NOW + 3600).unwrap();
    assert_eq!(v.payload, PayloadMode::Unsigned);
    // Valid up to and including the last second.
    verify(&auth, &r, SECRET, NOW + 86_400).unwrap();
    assert_eq!(
        verify(&auth, &r, SECRET, NOW + 86_401),
        Err(AuthError::ExpiredPresignRequest)
    );
    assert_eq!(
        verify(&auth, &r, SECRET, NOW - 16 * 60),
        Err(AuthError::RequestNotReadyYet)
    );
    assert_eq!(
        verify(&auth, &r, "wrong", NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
}

#[test]
fn presigned_url_tampered_query_or_path_fails() {
    let h = headers(&[("host", HOST)]);
    let tampered = format!("{PRESIGNED_QUERY}&response-content-type=text%2Fhtml");
    assert_eq!(
        check(&req("GET", "/test.txt", &tampered, &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
    assert_eq!(
        check(&req("GET", "/other.txt", PRESIGNED_QUERY, &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
    assert_eq!(
        check(&req("PUT", "/test.txt", PRESIGNED_QUERY, &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
    let other_host = headers(&[("host", "evil.example.com")]);
    assert_eq!(
        check(
            &req("GET", "/test.txt", PRESIGNED_QUERY, &other_host),
            SECRET,
            NOW
        ),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // A longer lifetime than signed does not verify either.
    let longer = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=86500");
    assert_eq!(
        check(&req("GET", "/test.txt", &longer, &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
}

#[test]
fn presigned_expires_is_checked() {
    let h = headers(&[("host", HOST)]);
    let with = |expires: &str| {
        let q = PRESIGNED_QUERY.replace("X-Amz-Expires=86400", &format!("X-Amz-Expires={expires}"));
        parse(&req("GET", "/test.txt", &q, &h)).map(|a| a.map(|a| a.presigned_expires))
    };
    assert_eq!(with("604800"), Ok(Some(Some(604_800))));
    assert_eq!(with("604801"), Err(AuthError::MaximumExpires));
    assert_eq!(with("-1"), Err(AuthError::NegativeExpires));
    assert_eq!(with("soon"), Err(AuthError::MalformedExpires));
    assert_eq!(with(""), Err(AuthError::MalformedExpires));
    let missing = PRESIGNED_QUERY.replace("&X-Amz-Expires=86400", "");
    assert!(matches!(
        parse(&req("GET", "/test.txt", &missing, &h)),
        Err(AuthError::AuthorizationQueryParametersError(_))
    ));
    assert_eq!(AuthError::MaximumExpires.s3_code().status(), 400);
    assert_eq!(
        AuthError::MaximumExpires.s3_code().as_str(),
        "AuthorizationQueryParametersError"
    );
}

#[test]
fn presigned_with_content_sha256_in_the_query() {
    let h = headers(&[("host", HOST)]);
    let key = signing_key(SECRET, "20130524", "us-east-1", "s3");
    let base = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
        &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host\
        &X-Amz-Content-Sha256=44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    let unsigned = req("PUT", "/k", base, &h);
    let canonical = canonical_request(
        &unsigned,
        &["host".to_owned()],
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        true,
    );
    let sig = hmac_hex(&key, &string_to_sign(AMZ_DATE, SCOPE, &canonical));
    let q = format!("{base}&X-Amz-Signature={sig}");
    let v = check(&req("PUT", "/k", &q, &h), SECRET, NOW).unwrap();
    assert_eq!(
        v.payload,
        PayloadMode::Sha256(
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072".to_owned()
        )
    );
}

fn chunked_headers(content_sha256: &str, signed: &str, signature: &str) -> Vec<(String, String)> {
    headers(&[
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", AMZ_DATE),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", &authorization(signed, signature)),
        ("x-amz-content-sha256", content_sha256),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("x-amz-trailer", "x-amz-checksum-crc32c"),
        ("content-length", "66824"),
    ])
}

#[test]
fn aws_example_chunked_upload_seed_and_chunk_signatures() {
    let h = chunked_headers(
        STREAMING_SIGNED,
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
         x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    );
    let r = req("PUT", "/examplebucket/chunkObject.txt", "", &h);
    let v = check(&r, SECRET, NOW).unwrap();
    assert_eq!(v.payload, PayloadMode::StreamingSigned);
    assert_eq!(
        v.seed_signature,
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    );
    let mut previous = v.seed_signature.clone();
    for (len, expected) in [
        (
            65_536,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        ),
        (
            1024,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        ),
        (
            0,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ),
    ] {
        let chunk = vec![b'a'; len];
        let to_sign = chunk_string_to_sign(&v.amz_date, &v.scope, &previous, &sha256_hex(&chunk));
        let signature = hmac_hex(&v.signing_key, &to_sign);
        assert_eq!(signature, expected, "chunk of {len} bytes");
        previous = signature;
    }
    let first = chunk_string_to_sign(
        AMZ_DATE,
        SCOPE,
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        &sha256_hex(&[b'a'; 65_536]),
    );
    assert_eq!(
        first,
        "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a"
    );
}

#[test]
fn aws_example_chunked_upload_with_signed_trailer() {
    let h = chunked_headers(
        STREAMING_SIGNED_TRAILER,
        "content-encoding;host;x-amz-content-sha256;x-amz-date;\
         x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
    );
    let r = req("PUT", "/examplebucket/chunkObject.txt", "", &h);
    let v = check(&r, SECRET, NOW).unwrap();
    assert_eq!(v.payload, PayloadMode::StreamingSignedTrailer);
    let mut previous = v.seed_signature.clone();
    for (len, expected) in [
        (
            65_536,
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        ),
        (
            1024,
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        ),
        (
            0,
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
        ),
    ] {
        let to_sign = chunk_string_to_sign(
            &v.amz_date,
            &v.scope,
            &previous,
            &sha256_hex(&vec![b'a'; len]),
        );
        previous = hmac_hex(&v.signing_key, &to_sign);
        assert_eq!(previous, expected, "chunk of {len} bytes");
    }
    let trailer_hash = sha256_hex(b"x-amz-checksum-crc32c:sOO8/Q==\n");
    assert_eq!(
        trailer_hash,
        "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774"
    );
    let to_sign = trailer_string_to_sign(&v.amz_date, &v.scope, &previous, &trailer_hash);
    assert_eq!(
        hmac_hex(&v.signing_key, &to_sign),
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
    );
}

#[test]
fn payload_modes() {
    for (value, mode) in [
        (UNSIGNED_PAYLOAD, PayloadMode::Unsigned),
        (STREAMING_SIGNED, PayloadMode::StreamingSigned),
        (
            STREAMING_UNSIGNED_TRAILER,
            PayloadMode::StreamingUnsignedTrailer,
        ),
        (
            STREAMING_SIGNED_TRAILER,
            PayloadMode::StreamingSignedTrailer,
        ),
        (
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            PayloadMode::Sha256(EMPTY_SHA256.to_owned()),
        ),
    ] {
        assert_eq!(PayloadMode::from_content_sha256(value), Ok(mode));
    }
    for bad in [
        "",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "abc",
        &"g".repeat(64),
    ] {
        let err = PayloadMode::from_content_sha256(bad).unwrap_err();
        assert_eq!(err.s3_code().as_str(), "InvalidArgument");
    }
}

#[test]
fn wrong_secret_does_not_match() {
    let h = get_object_headers("bytes=0-9");
    let err = check(
        &req("GET", "/test.txt", "", &h),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz",
        NOW,
    )
    .unwrap_err();
    assert_eq!(err, AuthError::SignatureDoesNotMatch);
    assert_eq!(err.s3_code().as_str(), "SignatureDoesNotMatch");
    assert_eq!(err.s3_code().status(), 403);
}

#[test]
fn clock_skew_of_fifteen_minutes_is_allowed() {
    let h = get_object_headers("bytes=0-9");
    let r = req("GET", "/test.txt", "", &h);
    check(&r, SECRET, NOW + 15 * 60).unwrap();
    check(&r, SECRET, NOW - 15 * 60).unwrap();
    for now in [NOW + 15 * 60 + 1, NOW - 15 * 60 - 1, NOW + 86_400] {
        let err = check(&r, SECRET, now).unwrap_err();
        assert_eq!(err, AuthError::RequestTimeTooSkewed);
        assert_eq!(err.s3_code().as_str(), "RequestTimeTooSkewed");
    }
}

#[test]
fn only_signed_headers_are_protected() {
    // An unsigned header may change or be added.
    let mut h = get_object_headers("bytes=0-9");
    h.push(("user-agent".to_owned(), "curl/8".to_owned()));
    h.push(("content-type".to_owned(), "text/plain".to_owned()));
    check(&req("GET", "/test.txt", "", &h), SECRET, NOW).unwrap();
    // A signed one may not.
    let h = get_object_headers("bytes=0-10");
    assert_eq!(
        check(&req("GET", "/test.txt", "", &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // Nor may a signed header be sent twice.
    let mut h = get_object_headers("bytes=0-9");
    h.push(("range".to_owned(), "bytes=0-9".to_owned()));
    assert_eq!(
        check(&req("GET", "/test.txt", "", &h), SECRET, NOW),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // Nor the path, method or query.
    let h = get_object_headers("bytes=0-9");
    for (method, path, query) in [
        ("GET", "/test.txt2", ""),
        ("HEAD", "/test.txt", ""),
        ("GET", "/test.txt", "versionId=1"),
    ] {
        assert_eq!(
            check(&req(method, path, query, &h), SECRET, NOW),
            Err(AuthError::SignatureDoesNotMatch)
        );
    }
}

#[test]
fn header_value_whitespace_is_canonicalized() {
    let h = get_object_headers("  bytes=0-9  ");
    check(&req("GET", "/test.txt", "", &h), SECRET, NOW).unwrap();
    assert_eq!(trim_all("  a   b \t c "), "a b c");
}

#[test]
fn no_sigv4_auth_is_none() {
    let h = headers(&[("host", HOST)]);
    assert_eq!(parse(&req("GET", "/x", "", &h)), Ok(None));
    assert_eq!(parse(&req("GET", "/x", "prefix=a", &h)), Ok(None));
    let v2 = headers(&[
        ("host", HOST),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        ),
    ]);
    assert_eq!(parse(&req("GET", "/x", "", &v2)), Ok(None));
    let v2_query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=x";
    assert_eq!(parse(&req("GET", "/x", v2_query, &h)), Ok(None));
}

#[test]
fn malformed_authorization_is_an_error() {
    let with = |authorization: &str| {
        let h = headers(&[
            ("host", HOST),
            ("x-amz-date", AMZ_DATE),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("authorization", authorization),
        ]);
        parse(&req("GET", "/", "", &h))
    };
    let sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    for bad in [
        "AWS4-HMAC-SHA256".to_owned(),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders=host"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},Signature={sig}"),
        format!("AWS4-HMAC-SHA256 SignedHeaders=host,Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws5_request,SignedHeaders=host,Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential=20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/2013052/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders=range,Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders=host;;range,Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders=host,Signature=abc"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},SignedHeaders=host,Signature={sig},Extra=1"),
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE},Credential={AK}/{SCOPE},SignedHeaders=host,Signature={sig}"),
        // The scope's day must be the request's.
        format!("AWS4-HMAC-SHA256 Credential={AK}/20130525/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={sig}"),
    ] {
        let err = with(&bad).unwrap_err();
        assert!(
            matches!(err, AuthError::AuthorizationHeaderMalformed(_)),
            "{bad}: {err:?}"
        );
        assert_eq!(err.s3_code().status(), 400);
    }
    // Spaces after the commas are fine.
    let spaced =
        format!("AWS4-HMAC-SHA256 Credential={AK}/{SCOPE}, SignedHeaders=host, Signature={sig}");
    assert!(with(&spaced).unwrap().is_some());
    // SigV4A and other algorithms are not supported.
    let err = with("AWS4-ECDSA-P256-SHA256 Credential=x").unwrap_err();
    assert_eq!(err.s3_code().as_str(), "AccessDenied");
}

#[test]
fn content_sha256_and_date_are_required() {
    let sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    let authz = authorization("host;x-amz-date", sig);
    let h = headers(&[
        ("host", HOST),
        ("x-amz-date", AMZ_DATE),
        ("authorization", &authz),
    ]);
    let err = parse(&req("GET", "/", "", &h)).unwrap_err();
    assert_eq!(err, AuthError::MissingContentSha256);
    assert_eq!(
        (err.s3_code().as_str(), err.s3_code().status()),
        ("InvalidRequest", 400)
    );

    let h = headers(&[
        ("host", HOST),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("authorization", &authz),
    ]);
    assert_eq!(parse(&req("GET", "/", "", &h)), Err(AuthError::InvalidDate));
    let h = headers(&[
        ("host", HOST),
        ("x-amz-date", "2013-05-24T00:00:00Z"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("authorization", &authz),
    ]);
    assert_eq!(parse(&req("GET", "/", "", &h)), Err(AuthError::InvalidDate));
}

#[test]
fn date_header_is_used_without_x_amz_date() {
    // Sign a request dated only by `Date` and check the ISO form is signed.
    let key = signing_key(SECRET, "20130524", "us-east-1", "s3");
    let mut h = headers(&[
        ("host", HOST),
        ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-content-sha256", UNSIGNED_PAYLOAD),
    ]);
    let signed = [
        "date".to_owned(),
        "host".to_owned(),
        "x-amz-content-sha256".to_owned(),
    ];
    let canonical = canonical_request(&req("GET", "/k", "", &h), &signed, UNSIGNED_PAYLOAD, false);
    let sig = hmac_hex(&key, &string_to_sign(AMZ_DATE, SCOPE, &canonical));
    h.push((
        "authorization".to_owned(),
        authorization("date;host;x-amz-content-sha256", &sig),
    ));
    let v = check(&req("GET", "/k", "", &h), SECRET, NOW + 60).unwrap();
    assert_eq!(v.amz_date, AMZ_DATE);
    assert_eq!(v.payload, PayloadMode::Unsigned);
}

#[test]
fn two_mechanisms_at_once_are_refused() {
    let mut h = get_object_headers("bytes=0-9");
    h.push(("x".to_owned(), "y".to_owned()));
    let err = parse(&req("GET", "/test.txt", PRESIGNED_QUERY, &h)).unwrap_err();
    assert_eq!(err.s3_code().as_str(), "InvalidArgument");
}

#[test]
fn canonical_uri_decodes_once_and_encodes_the_aws_way() {
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/"), "/");
    assert_eq!(canonical_uri("/a b/c+d"), "/a%20b/c%2Bd");
    assert_eq!(canonical_uri("/a%20b/c%2Bd"), "/a%20b/c%2Bd");
    assert_eq!(canonical_uri("/a%2fb"), "/a/b");
    assert_eq!(canonical_uri("/%E2%82%AC/~_-."), "/%E2%82%AC/~_-.");
    assert_eq!(canonical_uri("/€"), "/%E2%82%AC");
    // Double slashes and dot segments are kept: S3 does not normalize.
    assert_eq!(canonical_uri("/b//./../k"), "/b//./../k");
    // A stray '%' is a literal percent sign.
    assert_eq!(canonical_uri("/100%"), "/100%25");
    assert_eq!(canonical_uri("/a%zz"), "/a%25zz");
}

#[test]
fn canonical_query_sorts_and_encodes() {
    assert_eq!(canonical_query("", false), "");
    assert_eq!(canonical_query("b=2&a=1&a=0", false), "a=0&a=1&b=2");
    assert_eq!(canonical_query("k=a+b&j=%2F%7e", false), "j=%2F~&k=a%20b");
    assert_eq!(canonical_query("uploads&x=", false), "uploads=&x=");
    assert_eq!(canonical_query("X-Amz-Signature=abc&a=1", true), "a=1");
    assert_eq!(
        canonical_query("X-Amz-Signature=abc&a=1", false),
        "X-Amz-Signature=abc&a=1"
    );
}

#[test]
fn dates_parse_and_format() {
    assert_eq!(parse_amz_date(AMZ_DATE), Some(NOW));
    assert_eq!(format_amz_date(NOW), AMZ_DATE);
    assert_eq!(parse_http_date("Fri, 24 May 2013 00:00:00 GMT"), Some(NOW));
    assert_eq!(
        parse_http_date("Fri, 24 May 2013 02:00:00 +0200"),
        Some(NOW)
    );
    assert_eq!(
        parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000"),
        Some(1_175_024_202)
    );
    assert_eq!(parse_amz_date("20130230T000000Z"), None);
    assert_eq!(parse_amz_date("20130524T240000Z"), None);
    assert_eq!(parse_http_date("yesterday"), None);
    assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
    assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
}

#[test]
fn constant_time_comparison() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn error_codes_and_statuses() {
    for (err, code, status) in [
        (AuthError::AccessDenied("x".into()), "AccessDenied", 403),
        (AuthError::InvalidAccessKeyId, "InvalidAccessKeyId", 403),
        (
            AuthError::SignatureDoesNotMatch,
            "SignatureDoesNotMatch",
            403,
        ),
        (AuthError::RequestTimeTooSkewed, "RequestTimeTooSkewed", 403),
        (AuthError::RequestNotReadyYet, "AccessDenied", 403),
        (
            AuthError::MalformedExpires,
            "AuthorizationQueryParametersError",
            400,
        ),
        (
            AuthError::NegativeExpires,
            "AuthorizationQueryParametersError",
            400,
        ),
        (
            AuthError::MaximumExpires,
            "AuthorizationQueryParametersError",
            400,
        ),
        (AuthError::ExpiredPresignRequest, "AccessDenied", 403),
        (AuthError::MissingContentSha256, "InvalidRequest", 400),
        (AuthError::InvalidDate, "AccessDenied", 403),
        (
            AuthError::AuthorizationHeaderMalformed("x".into()),
            "AuthorizationHeaderMalformed",
            400,
        ),
        (
            AuthError::InvalidArgument("x".into()),
            "InvalidArgument",
            400,
        ),
    ] {
        assert_eq!(
            (err.s3_code().as_str(), err.s3_code().status()),
            (code, status),
            "{err:?}"
        );
    }
}

#[test]
fn client_signatures_verify() {
    let now = 1_700_000_000;
    let headers = vec![("host".to_owned(), "127.0.0.1:9000".to_owned())];
    let (date, auth) = sign_header(
        "GET",
        "/bucket/main/a%20b.txt",
        "list-type=2&prefix=x",
        &headers,
        UNSIGNED_PAYLOAD,
        "AKID",
        "secret",
        "us-east-1",
        now,
    );
    let all = vec![
        ("authorization".to_owned(), auth),
        ("host".to_owned(), "127.0.0.1:9000".to_owned()),
        (
            "x-amz-content-sha256".to_owned(),
            UNSIGNED_PAYLOAD.to_owned(),
        ),
        ("x-amz-date".to_owned(), date),
    ];
    let req = SignedRequest {
        method: "GET",
        raw_path: "/bucket/main/a%20b.txt",
        raw_query: "list-type=2&prefix=x",
        headers: &all,
    };
    let parsed = parse(&req).unwrap().unwrap();
    assert!(verify(&parsed, &req, "secret", now).is_ok());
    assert!(matches!(
        verify(&parsed, &req, "other", now),
        Err(AuthError::SignatureDoesNotMatch)
    ));
}
