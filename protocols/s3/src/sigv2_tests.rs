//! Tests of `sigv2`.

use super::*;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BUCKET: &str = "awsexamplebucket1";

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
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

fn unix(date: &str) -> i64 {
    parse_http_date(date).expect("a valid date")
}

/// Parses and verifies; `host_bucket` for virtual-hosted requests.
fn check(
    r: &SignedRequest,
    host_bucket: Option<&str>,
    secret: &str,
    now: i64,
) -> Result<(), AuthError> {
    let auth = parse(r)?.expect("a SigV2 request");
    verify_with_host_bucket(&auth, r, host_bucket, secret, now)
}

#[test]
fn aws_example_object_get() {
    let date = "Tue, 27 Mar 2007 19:36:42 +0000";
    let h = headers(&[
        ("host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"),
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        ),
    ]);
    let r = req("GET", "/photos/puppy.jpg", "", &h);
    assert_eq!(
        string_to_sign(&r, Some(BUCKET), date),
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    );
    let auth = parse(&r).unwrap().unwrap();
    assert_eq!(auth.access_key_id, AK);
    assert!(!auth.is_presigned());
    verify_with_host_bucket(&auth, &r, Some(BUCKET), SECRET, unix(date)).unwrap();
    // Path style: the bucket is in the path.
    let r = req("GET", "/awsexamplebucket1/photos/puppy.jpg", "", &h);
    verify(&auth, &r, SECRET, unix(date)).unwrap();
}

#[test]
fn aws_example_object_put() {
    let date = "Tue, 27 Mar 2007 21:15:45 +0000";
    let h = headers(&[
        ("content-type", "image/jpeg"),
        ("content-length", "94328"),
        ("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:iqRzw+ileNPu1fhspnRs8nOjjIA=",
        ),
    ]);
    let r = req("PUT", "/photos/puppy.jpg", "", &h);
    check(&r, Some(BUCKET), SECRET, unix(date)).unwrap();
}

#[test]
fn aws_example_list_ignores_unsigned_query_parameters() {
    let date = "Tue, 27 Mar 2007 19:42:41 +0000";
    let h = headers(&[
        ("user-agent", "Mozilla/5.0"),
        ("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:m0WP8eCtspQl5Ahe6L1SozdX9YA=",
        ),
    ]);
    let r = req("GET", "/", "prefix=photos&max-keys=50&marker=puppy", &h);
    assert_eq!(
        canonicalized_resource(&r, Some(BUCKET)),
        "/awsexamplebucket1/"
    );
    check(&r, Some(BUCKET), SECRET, unix(date)).unwrap();
}

#[test]
fn aws_example_fetch_acl_signs_the_subresource() {
    let date = "Tue, 27 Mar 2007 19:44:46 +0000";
    let h = headers(&[
        ("host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"),
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:82ZHiFIjc+WbcwFKGUVEQspPn+0=",
        ),
    ]);
    let r = req("GET", "/", "acl", &h);
    assert_eq!(
        canonicalized_resource(&r, Some(BUCKET)),
        "/awsexamplebucket1/?acl"
    );
    check(&r, Some(BUCKET), SECRET, unix(date)).unwrap();
    // Without the sub-resource the signature is another request's.
    let r = req("GET", "/", "", &h);
    assert_eq!(
        check(&r, Some(BUCKET), SECRET, unix(date)),
        Err(AuthError::SignatureDoesNotMatch)
    );
}

/// The documentation's Delete example puts the `x-amz-date` value on the
/// Date line, against its own rule ("use the empty string for the Date");
/// S3 follows the rule, so this signature was computed from the rule's
/// string to sign (with Python's hmac module).
#[test]
fn delete_with_x_amz_date_signs_an_empty_date_line() {
    let h = headers(&[
        ("user-agent", "dotnet"),
        ("host", "s3.us-west-1.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
        ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:Ri1hpB1zpS9pGqR7y8kuNFCl4sE=",
        ),
    ]);
    let r = req("DELETE", "/awsexamplebucket1/photos/puppy.jpg", "", &h);
    assert_eq!(
        string_to_sign(&r, None, ""),
        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n\
         /awsexamplebucket1/photos/puppy.jpg"
    );
    check(&r, None, SECRET, unix("Tue, 27 Mar 2007 21:20:26 +0000")).unwrap();
}

#[test]
fn aws_example_upload_with_amz_headers() {
    let date = "Tue, 27 Mar 2007 21:06:08 +0000";
    let h = headers(&[
        ("user-agent", "curl/7.15.5"),
        ("host", "static.awsexamplebucket1.net:8080"),
        ("date", date),
        ("x-amz-acl", "public-read"),
        ("content-type", "application/x-download"),
        ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
        ("x-amz-meta-reviewedby", "joe@awsexamplebucket1.net"),
        ("x-amz-meta-reviewedby", "jane@awsexamplebucket1.net"),
        ("x-amz-meta-filechecksum", "0x02661779"),
        ("x-amz-meta-checksumalgorithm", "crc32"),
        ("content-disposition", "attachment; filename=database.dat"),
        ("content-encoding", "gzip"),
        ("content-length", "5913339"),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:dKZcB+bz2EPXgSdXZp9ozGeOM4I=",
        ),
    ]);
    let r = req("PUT", "/db-backup.dat.gz", "", &h);
    assert_eq!(
        string_to_sign(&r, Some("static.awsexamplebucket1.net"), date),
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n\
         Tue, 27 Mar 2007 21:06:08 +0000\nx-amz-acl:public-read\n\
         x-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@awsexamplebucket1.net,jane@awsexamplebucket1.net\n\
         /static.awsexamplebucket1.net/db-backup.dat.gz"
    );
    check(&r, Some("static.awsexamplebucket1.net"), SECRET, unix(date)).unwrap();
    // A signed amz header changed fails; an unsigned header changed does not.
    let mut tampered = h.clone();
    tampered[3].1 = "private".to_owned();
    let r = req("PUT", "/db-backup.dat.gz", "", &tampered);
    assert_eq!(
        check(&r, Some("static.awsexamplebucket1.net"), SECRET, unix(date)),
        Err(AuthError::SignatureDoesNotMatch)
    );
    let mut unsigned = h.clone();
    unsigned[0].1 = "curl/8".to_owned();
    unsigned.push(("content-language".to_owned(), "fr".to_owned()));
    let r = req("PUT", "/db-backup.dat.gz", "", &unsigned);
    check(&r, Some("static.awsexamplebucket1.net"), SECRET, unix(date)).unwrap();
}

#[test]
fn aws_example_list_all_my_buckets() {
    let date = "Wed, 28 Mar 2007 01:29:59 +0000";
    let h = headers(&[
        ("host", "s3.us-west-1.amazonaws.com"),
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:qGdzdERIC03wnaRNKh6OqZehG9s=",
        ),
    ]);
    check(&req("GET", "/", "", &h), None, SECRET, unix(date)).unwrap();
}

#[test]
fn aws_example_unicode_keys_are_signed_as_sent() {
    let date = "Wed, 28 Mar 2007 01:49:49 +0000";
    let h = headers(&[
        ("host", "s3.us-west-1.amazonaws.com"),
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:DNEZGsoieTZ92F3bUfSPQcbGmlM=",
        ),
    ]);
    let path = "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re";
    check(&req("GET", path, "", &h), None, SECRET, unix(date)).unwrap();
}

/// The query-string example, with the bucket of the original
/// documentation (`johnsmith`) that its signature was computed for.
#[test]
fn aws_example_query_string_authentication() {
    let h = headers(&[("host", "johnsmith.s3.amazonaws.com")]);
    let query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE\
        &Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620";
    let r = req("GET", "/photos/puppy.jpg", query, &h);
    let auth = parse(&r).unwrap().unwrap();
    assert_eq!(auth.access_key_id, AK);
    assert_eq!(auth.signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
    assert!(auth.is_presigned());
    assert_eq!(
        string_to_sign(&r, Some("johnsmith"), "1175139620"),
        "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"
    );
    verify_with_host_bucket(&auth, &r, Some("johnsmith"), SECRET, 1_175_139_620).unwrap();
    // Clock skew does not matter to a presigned URL; only expiry does.
    verify_with_host_bucket(&auth, &r, Some("johnsmith"), SECRET, 1_000_000_000).unwrap();
    assert_eq!(
        verify_with_host_bucket(&auth, &r, Some("johnsmith"), SECRET, 1_175_139_621),
        Err(AuthError::ExpiredPresignRequest)
    );
    assert_eq!(
        verify_with_host_bucket(&auth, &r, Some("johnsmith"), "wrong", 1_175_139_000),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // A later Expires than signed does not verify.
    let later = query.replace("1175139620", "1175139999");
    let r = req("GET", "/photos/puppy.jpg", &later, &h);
    assert_eq!(
        check(&r, Some("johnsmith"), SECRET, 1_175_139_000),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // A signed sub-resource added to the query does not verify.
    let acl = format!("{query}&acl");
    let r = req("GET", "/photos/puppy.jpg", &acl, &h);
    assert_eq!(
        check(&r, Some("johnsmith"), SECRET, 1_175_139_000),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // A base64 signature sent without percent-encoding keeps its '+'.
    let raw = query.replace("%2B", "+").replace("%3D", "=");
    let r = req("GET", "/photos/puppy.jpg", &raw, &h);
    check(&r, Some("johnsmith"), SECRET, 1_175_139_000).unwrap();
}

#[test]
fn malformed_query_authentication() {
    let h = headers(&[("host", "johnsmith.s3.amazonaws.com")]);
    let parse_query = |q: &str| parse(&req("GET", "/k", q, &h));
    assert_eq!(
        parse_query("AWSAccessKeyId=AK&Signature=s&Expires=soon"),
        Err(AuthError::MalformedExpires)
    );
    for q in [
        "AWSAccessKeyId=AK&Expires=1",
        "AWSAccessKeyId=AK&Signature=s",
        "AWSAccessKeyId=AK&Signature=s&Signature=t&Expires=1",
    ] {
        assert_eq!(
            parse_query(q).unwrap_err().s3_code().as_str(),
            "AccessDenied",
            "{q}"
        );
    }
    assert_eq!(parse_query("Signature=s&Expires=1"), Ok(None));
    assert_eq!(parse_query(""), Ok(None));
}

#[test]
fn header_form_rules() {
    let date = "Tue, 27 Mar 2007 19:36:42 +0000";
    let h = headers(&[
        ("date", date),
        (
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        ),
    ]);
    let r = req("GET", "/awsexamplebucket1/photos/puppy.jpg", "", &h);
    // Wrong secret.
    let err = check(
        &r,
        None,
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz",
        unix(date),
    )
    .unwrap_err();
    assert_eq!(
        (err.s3_code().as_str(), err.s3_code().status()),
        ("SignatureDoesNotMatch", 403)
    );
    // Clock skew of 15 minutes either way.
    check(&r, None, SECRET, unix(date) + 900).unwrap();
    check(&r, None, SECRET, unix(date) - 900).unwrap();
    assert_eq!(
        check(&r, None, SECRET, unix(date) + 901),
        Err(AuthError::RequestTimeTooSkewed)
    );
    assert_eq!(
        check(&r, None, SECRET, unix(date) - 901),
        Err(AuthError::RequestTimeTooSkewed)
    );
    // Another path or method.
    let other = req("GET", "/awsexamplebucket1/photos/kitten.jpg", "", &h);
    assert_eq!(
        check(&other, None, SECRET, unix(date)),
        Err(AuthError::SignatureDoesNotMatch)
    );
    let other = req("DELETE", "/awsexamplebucket1/photos/puppy.jpg", "", &h);
    assert_eq!(
        check(&other, None, SECRET, unix(date)),
        Err(AuthError::SignatureDoesNotMatch)
    );
    // No date at all, or one that does not parse.
    let no_date = headers(&[("authorization", "AWS AK:sig")]);
    assert_eq!(
        check(&req("GET", "/b/k", "", &no_date), None, SECRET, 0),
        Err(AuthError::InvalidDate)
    );
    let bad_date = headers(&[("date", "someday"), ("authorization", "AWS AK:sig")]);
    assert_eq!(
        check(&req("GET", "/b/k", "", &bad_date), None, SECRET, 0),
        Err(AuthError::InvalidDate)
    );
    // Malformed Authorization.
    for bad in ["AWS AKIAIOSFODNN7EXAMPLE", "AWS :sig", "AWS AK:"] {
        let h = headers(&[("date", date), ("authorization", bad)]);
        assert_eq!(
            parse(&req("GET", "/b/k", "", &h))
                .unwrap_err()
                .s3_code()
                .as_str(),
            "AccessDenied",
            "{bad}"
        );
    }
    // Two mechanisms at once.
    let r = req("GET", "/b/k", "AWSAccessKeyId=AK&Signature=s&Expires=1", &h);
    assert_eq!(parse(&r).unwrap_err().s3_code().as_str(), "InvalidArgument");
}

#[test]
fn sigv4_requests_are_not_sigv2() {
    let h = headers(&[(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host, Signature=00",
    )]);
    assert_eq!(parse(&req("GET", "/", "", &h)), Ok(None));
    let none = headers(&[]);
    assert_eq!(
        parse(&req("GET", "/", "X-Amz-Algorithm=AWS4-HMAC-SHA256", &none)),
        Ok(None)
    );
}

#[test]
fn subresources_are_sorted_and_decoded() {
    let h = headers(&[]);
    let r = req(
        "GET",
        "/b/k",
        "versionId=3&response-content-disposition=attachment%3B%20filename%3Ddb.dat\
         &prefix=x&response-content-type=application%2Fjson&uploads",
        &h,
    );
    assert_eq!(
        canonicalized_resource(&r, None),
        "/b/k?response-content-disposition=attachment; filename=db.dat\
         &response-content-type=application/json&uploads&versionId=3"
    );
    let r = req("POST", "/b/k", "uploadId=abc&partNumber=2", &h);
    assert_eq!(
        canonicalized_resource(&r, None),
        "/b/k?partNumber=2&uploadId=abc"
    );
    assert_eq!(
        canonicalized_resource(&req("GET", "", "", &h), Some("b")),
        "/b/"
    );
    assert!(SIGNED_SUBRESOURCES.windows(2).all(|w| w[0] < w[1]));
}

/// botocore signs `/<bucket>/` for a path-style bucket request it sends as
/// `/<bucket>`: both resources verify for a bucket-only path, and only there.
#[test]
fn bucket_only_path_accepts_the_trailing_slash_resource() {
    let date = "Tue, 27 Mar 2007 19:36:42 +0000";
    let now = unix(date);
    let signed_for = |resource: &str| {
        let to_sign = format!("GET\n\n\n{date}\n{resource}");
        format!("AWS {AK}:{}", sign(SECRET, &to_sign))
    };
    for (sent, signed) in [
        ("/awsexamplebucket1", "/awsexamplebucket1/"),
        ("/awsexamplebucket1", "/awsexamplebucket1"),
        ("/awsexamplebucket1/", "/awsexamplebucket1/"),
    ] {
        let h = headers(&[("date", date), ("authorization", &signed_for(signed))]);
        check(&req("GET", sent, "", &h), None, SECRET, now)
            .unwrap_or_else(|e| panic!("{sent} signed as {signed}: {e:?}"));
    }
    // Not for objects, and not with the wrong secret.
    let h = headers(&[
        ("date", date),
        ("authorization", &signed_for("/awsexamplebucket1/key/")),
    ]);
    assert!(matches!(
        check(
            &req("GET", "/awsexamplebucket1/key", "", &h),
            None,
            SECRET,
            now
        ),
        Err(AuthError::SignatureDoesNotMatch)
    ));
    let h = headers(&[
        ("date", date),
        ("authorization", &signed_for("/awsexamplebucket1/")),
    ]);
    assert!(matches!(
        check(
            &req("GET", "/awsexamplebucket1", "", &h),
            None,
            "wrong",
            now
        ),
        Err(AuthError::SignatureDoesNotMatch)
    ));
}
