//! Tests of `chunked`.

use super::*;
use futures::executor::block_on;
use futures::stream::{self, StreamExt as _};
use proptest::prelude::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";

fn hmac(key: &[u8], msg: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().into()
}

fn signing_key() -> [u8; 32] {
    let k = hmac(format!("AWS4{SECRET}").as_bytes(), "20130524");
    let k = hmac(&k, "us-east-1");
    let k = hmac(&k, "s3");
    hmac(&k, "aws4_request")
}

fn signing(seed: &str) -> ChunkSigning {
    ChunkSigning {
        signing_key: signing_key(),
        amz_date: AMZ_DATE.to_string(),
        scope: SCOPE.to_string(),
        seed_signature: seed.to_string(),
    }
}

/// A test encoder of aws-chunked bodies; returns the body and the chunk
/// signatures (then the trailer signature) it wrote.
struct Encoder {
    signing: Option<ChunkSigning>,
    /// Trailer lines, `(name, value)`.
    trailers: Vec<(String, String)>,
    trailer_signed: bool,
}

impl Encoder {
    fn encode(&self, chunks: &[&[u8]]) -> (Vec<u8>, Vec<String>) {
        let mut body = Vec::new();
        let mut sigs = Vec::new();
        let mut previous = self.signing.as_ref().map(|s| s.seed_signature.clone());
        let with_trailer = !self.trailers.is_empty() || self.trailer_signed;
        let empty: &[u8] = &[];
        for data in chunks.iter().copied().chain([empty]) {
            body.extend_from_slice(format!("{:x}", data.len()).as_bytes());
            if let (Some(s), Some(prev)) = (&self.signing, &mut previous) {
                let sts = format!(
                    "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
                    s.amz_date,
                    s.scope,
                    prev,
                    EMPTY_SHA256,
                    hex::encode(Sha256::digest(data))
                );
                *prev = hex::encode(hmac(&s.signing_key, &sts));
                body.extend_from_slice(format!(";chunk-signature={prev}").as_bytes());
                sigs.push(prev.clone());
            }
            body.extend_from_slice(b"\r\n");
            if !data.is_empty() || !with_trailer {
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
        }
        if with_trailer {
            let mut canonical = String::new();
            for (name, value) in &self.trailers {
                body.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
                canonical.push_str(&format!("{name}:{value}\n"));
            }
            if self.trailer_signed {
                let s = self.signing.as_ref().unwrap();
                let sts = format!(
                    "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
                    s.amz_date,
                    s.scope,
                    previous.as_ref().unwrap(),
                    hex::encode(Sha256::digest(canonical.as_bytes()))
                );
                let sig = hex::encode(hmac(&s.signing_key, &sts));
                body.extend_from_slice(format!("{TRAILER_SIGNATURE}:{sig}\r\n").as_bytes());
                sigs.push(sig);
            }
            body.extend_from_slice(b"\r\n");
        }
        (body, sigs)
    }
}

/// Splits `body` at the given offsets into input pieces.
fn split_at(body: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, body.len());
        pieces.push(Bytes::copy_from_slice(&body[start..cut]));
        start = cut;
    }
    pieces.push(Bytes::copy_from_slice(&body[start..]));
    pieces
}

/// Runs the decoder over `pieces`: the decoded bytes, then the error.
fn run(pieces: Vec<Bytes>, opts: ChunkedOptions) -> (Vec<u8>, Option<io::Error>) {
    let input = stream::iter(pieces.into_iter().map(Ok::<_, io::Error>));
    let mut decoded = decode(input, opts);
    block_on(async {
        let mut out = Vec::new();
        while let Some(item) = decoded.next().await {
            match item {
                Ok(piece) => out.extend_from_slice(&piece),
                Err(err) => {
                    assert!(
                        decoded.next().await.is_none(),
                        "stream goes on after an error"
                    );
                    return (out, Some(err));
                }
            }
        }
        (out, None)
    })
}

fn run_ok(pieces: Vec<Bytes>, opts: ChunkedOptions) -> Vec<u8> {
    let (out, err) = run(pieces, opts);
    if let Some(err) = err {
        panic!("unexpected error: {err}");
    }
    out
}

fn run_err(pieces: Vec<Bytes>, opts: ChunkedOptions) -> (Vec<u8>, ChunkError) {
    let (out, err) = run(pieces, opts);
    let err = err.expect("an error");
    let chunk_err = ChunkError::from_io(&err).expect("a ChunkError").clone();
    (out, chunk_err)
}

fn signed_opts(seed: &str) -> ChunkedOptions {
    ChunkedOptions {
        signing: Some(signing(seed)),
        ..Default::default()
    }
}

fn aws_example_body() -> Vec<u8> {
    let data = vec![b'a'; 66560];
    let encoder = Encoder {
        signing: Some(signing(SEED)),
        trailers: Vec::new(),
        trailer_signed: false,
    };
    let (body, sigs) = encoder.encode(&[&data[..65536], &data[65536..]]);
    assert_eq!(
        sigs,
        [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ]
    );
    body
}

/// Offsets within a few bytes of every framing element of `body` (chunk
/// headers, CRLFs), where a split is most likely to go wrong.
fn awkward_offsets(body: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut i = 0;
    while i < body.len() {
        // A framing element is an ASCII line; data is 'a'.
        if body[i] != b'a' {
            let start = i;
            while i < body.len() && body[i] != b'a' {
                i += 1;
            }
            offsets.extend(start.saturating_sub(2)..(i + 3).min(body.len() + 1));
        } else {
            i += 1;
        }
    }
    offsets.dedup();
    offsets
}

#[test]
fn aws_example_signed_chunks_decode() {
    let body = aws_example_body();
    let out = run_ok(vec![Bytes::from(body)], signed_opts(SEED));
    assert_eq!(out, vec![b'a'; 66560]);
}

#[test]
fn aws_example_one_byte_pieces() {
    let body = aws_example_body();
    let cuts: Vec<usize> = (1..body.len()).collect();
    let out = run_ok(split_at(&body, &cuts), signed_opts(SEED));
    assert_eq!(out, vec![b'a'; 66560]);
}

#[test]
fn aws_example_split_at_every_awkward_offset() {
    let body = aws_example_body();
    let offsets = awkward_offsets(&body);
    assert!(offsets.len() > 100);
    for &cut in &offsets {
        let out = run_ok(split_at(&body, &[cut]), signed_opts(SEED));
        assert_eq!(out.len(), 66560, "split at {cut}");
    }
    // Two cuts close together: a header split in three.
    for window in offsets.windows(3) {
        let out = run_ok(split_at(&body, &[window[0], window[2]]), signed_opts(SEED));
        assert_eq!(out.len(), 66560, "split at {window:?}");
    }
    // With empty pieces in between.
    let pieces: Vec<Bytes> = split_at(&body, &offsets[..10])
        .into_iter()
        .flat_map(|p| [Bytes::new(), p])
        .collect();
    assert_eq!(run_ok(pieces, signed_opts(SEED)).len(), 66560);
}

#[test]
fn flipped_data_byte_is_signature_mismatch() {
    let body = aws_example_body();
    let header_len = body.iter().position(|&b| b == b'\n').unwrap() + 1;
    // In the first chunk: nothing of it may come out.
    let mut bad = body.clone();
    bad[header_len + 100] ^= 1;
    let (out, err) = run_err(vec![Bytes::from(bad)], signed_opts(SEED));
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    assert_eq!(err.s3_code().as_str(), "SignatureDoesNotMatch");
    assert!(out.is_empty());
    // In the second chunk: only the first chunk comes out.
    let mut bad = body.clone();
    bad[body.len() - 200] ^= 1;
    let cuts: Vec<usize> = (1..bad.len()).step_by(777).collect();
    let (out, err) = run_err(split_at(&bad, &cuts), signed_opts(SEED));
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    assert_eq!(out.len(), 65536);
}

#[test]
fn wrong_signatures_are_refused() {
    let body = aws_example_body();
    // Another seed signature.
    let other_seed = SEED.replace('4', "5");
    let (_, err) = run_err(vec![Bytes::from(body.clone())], signed_opts(&other_seed));
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    // A tampered final chunk signature.
    let text = String::from_utf8(body.clone()).unwrap();
    let tampered = text.replace(
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df8",
    );
    let (out, err) = run_err(vec![Bytes::from(tampered)], signed_opts(SEED));
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    assert_eq!(out.len(), 66560);
    // A signature that is not hex.
    let tampered = text.replace(
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "zz80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    );
    let (_, err) = run_err(vec![Bytes::from(tampered)], signed_opts(SEED));
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    // No signature at all on signed chunks.
    let (_, err) = run_err(
        vec![Bytes::from_static(b"3\r\nabc\r\n0\r\n\r\n")],
        signed_opts(SEED),
    );
    assert!(matches!(err, ChunkError::Malformed(_)), "{err:?}");
    // Upper-case hex is the same signature.
    let upper = text.replace(
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "AD80C730A21E5B8D04586A2213DD63B9A0E99E0E2307B0ADE35A65485A288648",
    );
    assert_eq!(
        run_ok(vec![Bytes::from(upper)], signed_opts(SEED)).len(),
        66560
    );
}

#[test]
fn aws_example_signed_trailer() {
    let data = vec![b'a'; 66560];
    let encoder = Encoder {
        signing: Some(signing(TRAILER_SEED)),
        trailers: vec![("x-amz-checksum-crc32c".to_string(), "sOO8/Q==".to_string())],
        trailer_signed: true,
    };
    let (body, sigs) = encoder.encode(&[&data[..65536], &data[65536..]]);
    assert_eq!(
        sigs,
        [
            "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
            "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
            "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
        ]
    );
    let opts = ChunkedOptions {
        signing: Some(signing(TRAILER_SEED)),
        trailer: Some(ChecksumAlgorithm::Crc32c),
        trailer_signed: true,
        decoded_length: Some(66560),
    };
    let out = run_ok(vec![Bytes::from(body.clone())], opts.clone());
    assert_eq!(out, data);
    for &cut in &awkward_offsets(&body) {
        let out = run_ok(split_at(&body, &[cut]), opts.clone());
        assert_eq!(out.len(), 66560, "split at {cut}");
    }

    // The summary, once verified.
    let input = stream::iter([Ok::<_, io::Error>(Bytes::from(body.clone()))]);
    let (mut decoded, summary) = decode_with_summary(input, opts.clone());
    block_on(async {
        while let Some(item) = decoded.next().await {
            assert!(summary.get().is_none());
            item.unwrap();
        }
    });
    assert_eq!(
        summary.get(),
        Some(&DecodeSummary {
            decoded_length: 66560,
            checksum: Some((ChecksumAlgorithm::Crc32c, "sOO8/Q==".to_string())),
            trailers: vec![("x-amz-checksum-crc32c".to_string(), "sOO8/Q==".to_string())],
        })
    );

    // A tampered trailer value breaks the trailer signature.
    let text = String::from_utf8(body.clone()).unwrap();
    let tampered = text.replace("sOO8/Q==", "sOO8/A==");
    let (out, err) = run_err(vec![Bytes::from(tampered)], opts.clone());
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    assert_eq!(out.len(), 66560);
    // So does a tampered trailer signature.
    let tampered = text.replace(
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
        "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e436",
    );
    let (_, err) = run_err(vec![Bytes::from(tampered)], opts.clone());
    assert_eq!(err, ChunkError::SignatureDoesNotMatch);
    // And a missing one.
    let unsigned_trailer = Encoder {
        trailer_signed: false,
        ..encoder
    };
    let (body, _) = unsigned_trailer.encode(&[&data[..65536], &data[65536..]]);
    let (_, err) = run_err(vec![Bytes::from(body)], opts);
    assert!(matches!(err, ChunkError::MalformedTrailer(_)), "{err:?}");
}

#[test]
fn signed_trailer_needs_signed_chunks() {
    let opts = ChunkedOptions {
        trailer_signed: true,
        ..Default::default()
    };
    let (_, err) = run_err(vec![Bytes::from_static(b"0\r\n\r\n")], opts);
    assert!(matches!(err, ChunkError::Malformed(_)));
}

fn unsigned_trailer_body(data: &[u8], name: &str, value: &str) -> Vec<u8> {
    let encoder = Encoder {
        signing: None,
        trailers: vec![(name.to_string(), value.to_string())],
        trailer_signed: false,
    };
    let chunks: Vec<&[u8]> = data.chunks(1000).collect();
    encoder.encode(&chunks).0
}

#[test]
fn unsigned_trailer_each_algorithm() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
    for alg in ChecksumAlgorithm::ALL {
        let opts = ChunkedOptions {
            trailer: Some(alg),
            decoded_length: Some(data.len() as u64),
            ..Default::default()
        };
        let good = alg.checksum(&data);
        let body = unsigned_trailer_body(&data, alg.header_name(), &good);
        assert_eq!(
            run_ok(vec![Bytes::from(body.clone())], opts.clone()),
            data,
            "{alg}"
        );
        let cuts: Vec<usize> = (0..body.len()).step_by(7).collect();
        assert_eq!(run_ok(split_at(&body, &cuts), opts.clone()), data, "{alg}");

        let wrong = alg.checksum(b"something else");
        let body = unsigned_trailer_body(&data, alg.header_name(), &wrong);
        let (out, err) = run_err(vec![Bytes::from(body)], opts.clone());
        assert_eq!(err, ChunkError::BadDigest, "{alg}");
        assert_eq!(err.s3_code().as_str(), "BadDigest");
        // Unsigned data streams through before the trailer is seen.
        assert_eq!(out, data, "{alg}");

        // The declared trailer missing (another one sent).
        let other = if alg == ChecksumAlgorithm::Crc32 {
            ChecksumAlgorithm::Sha256
        } else {
            ChecksumAlgorithm::Crc32
        };
        let body = unsigned_trailer_body(&data, other.header_name(), &other.checksum(&data));
        let (_, err) = run_err(vec![Bytes::from(body)], opts.clone());
        assert!(
            matches!(err, ChunkError::MalformedTrailer(_)),
            "{alg}: {err:?}"
        );
    }
}

#[test]
fn unsigned_trailer_variants() {
    let data = b"hello world";
    let crc = ChecksumAlgorithm::Crc32.checksum(data);
    assert_eq!(crc, "DUoRhQ==");
    let opts = ChunkedOptions {
        trailer: Some(ChecksumAlgorithm::Crc32),
        ..Default::default()
    };
    // Several trailer lines, in any case, with a trailer signature that
    // is not checked in the unsigned variant.
    let body = format!(
        "b\r\nhello world\r\n0\r\nx-amz-meta-foo: bar\r\nX-Amz-Checksum-Crc32: {crc}\r\n\
         x-amz-trailer-signature:{}\r\n\r\n",
        "0".repeat(64)
    );
    let (stream, summary) = decode_with_summary(
        stream::iter([Ok::<_, io::Error>(Bytes::from(body))]),
        opts.clone(),
    );
    let out: Vec<Bytes> = block_on(stream.map(|r| r.unwrap()).collect());
    assert_eq!(out.concat(), data);
    let summary = summary.get().unwrap();
    assert_eq!(
        summary.checksum,
        Some((ChecksumAlgorithm::Crc32, crc.clone()))
    );
    assert_eq!(summary.trailers.len(), 2);
    // Without the final blank line, tolerated after a trailer.
    let body = format!("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n");
    assert_eq!(run_ok(vec![Bytes::from(body)], opts.clone()), data);
    // No trailer at all, when none is declared.
    let body = "b\r\nhello world\r\n0\r\n\r\n";
    assert_eq!(
        run_ok(vec![Bytes::from(body)], ChunkedOptions::default()),
        data
    );
    // Declared but absent.
    let (_, err) = run_err(vec![Bytes::from(body)], opts);
    assert!(matches!(err, ChunkError::MalformedTrailer(_)));
    assert_eq!(err.s3_code().as_str(), "MalformedTrailerError");
}

#[test]
fn decoded_length_mismatch() {
    let body = aws_example_body();
    for wrong in [0, 66559, 66561, 1 << 40] {
        let opts = ChunkedOptions {
            decoded_length: Some(wrong),
            ..signed_opts(SEED)
        };
        let (_, err) = run_err(vec![Bytes::from(body.clone())], opts);
        assert_eq!(err, ChunkError::IncompleteBody, "{wrong}");
        assert_eq!(err.s3_code().as_str(), "IncompleteBody");
    }
    let opts = ChunkedOptions {
        decoded_length: Some(66560),
        ..signed_opts(SEED)
    };
    assert_eq!(run_ok(vec![Bytes::from(body)], opts).len(), 66560);
}

#[test]
fn truncated_bodies_are_incomplete() {
    let body = aws_example_body();
    let ends = [
        0,
        5,
        90,
        1000,
        65536 + 80,
        65536 + 86 + 2,
        body.len() - 3,
        body.len() - 1,
    ];
    for end in ends {
        let (_, err) = run_err(
            vec![Bytes::copy_from_slice(&body[..end])],
            signed_opts(SEED),
        );
        assert_eq!(err, ChunkError::IncompleteBody, "cut at {end}");
    }
}

#[test]
fn malformed_framing() {
    let opts = ChunkedOptions::default;
    let cases: [&[u8]; 7] = [
        b"x\r\nabc\r\n0\r\n\r\n",
        b"\r\n0\r\n\r\n",
        b"3\r\nabcd\r\n0\r\n\r\n",
        b"3\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n0\r\n\r\nextra",
        b"3\r\nabc\r\n0\r\nno-colon\r\n\r\n",
        b"11111111111111111\r\n",
    ];
    for case in cases {
        let (_, err) = run_err(vec![Bytes::from_static(case)], opts());
        assert!(
            matches!(
                err,
                ChunkError::Malformed(_) | ChunkError::MalformedTrailer(_)
            ),
            "{:?}: {err:?}",
            String::from_utf8_lossy(case)
        );
    }
    // A header line without end.
    let long = vec![b'1'; MAX_LINE + 10];
    let (_, err) = run_err(vec![Bytes::from(long)], opts());
    assert!(matches!(err, ChunkError::Malformed(_)));
    // Too large a chunk, refused before any data.
    let (out, err) = run_err(
        vec![Bytes::from(format!("{:x}\r\n", MAX_CHUNK_SIZE + 1))],
        opts(),
    );
    assert_eq!(err, ChunkError::ChunkTooLarge);
    assert!(out.is_empty());
    // Exactly the cap is accepted as a size.
    let (_, err) = run_err(
        vec![Bytes::from(format!("{MAX_CHUNK_SIZE:x}\r\nab"))],
        opts(),
    );
    assert_eq!(err, ChunkError::IncompleteBody);
}

#[test]
fn input_errors_pass_through() {
    let input = stream::iter([
        Ok(Bytes::from_static(b"3\r\nab")),
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
        Ok(Bytes::from_static(b"c\r\n0\r\n\r\n")),
    ]);
    let items: Vec<io::Result<Bytes>> =
        block_on(decode(input, ChunkedOptions::default()).collect());
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().as_ref(), b"ab");
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert!(ChunkError::from_io(err).is_none());
}

fn collect_verified(
    stream: impl Stream<Item = io::Result<Bytes>>,
) -> (Vec<u8>, Option<ChunkError>) {
    block_on(async {
        futures::pin_mut!(stream);
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(piece) => out.extend_from_slice(&piece),
                Err(err) => {
                    assert!(stream.next().await.is_none());
                    return (out, ChunkError::from_io(&err).cloned());
                }
            }
        }
        (out, None)
    })
}

#[test]
fn verify_sha256_plain_body() {
    let data = b"hello world".to_vec();
    let pieces = || {
        stream::iter(
            data.chunks(3)
                .map(|c| Ok::<_, io::Error>(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        )
    };
    let good = hex::encode(Sha256::digest(&data));
    let (out, err) = collect_verified(verify_sha256(pieces(), good.to_ascii_uppercase()));
    assert_eq!((out.as_slice(), err), (data.as_slice(), None));
    let bad = hex::encode(Sha256::digest(b"hello world!"));
    let (out, err) = collect_verified(verify_sha256(pieces(), bad));
    // Nothing is held back; the error replaces the end.
    assert_eq!(out, data);
    assert_eq!(err, Some(ChunkError::XAmzContentSha256Mismatch));
    assert_eq!(
        ChunkError::XAmzContentSha256Mismatch.s3_code().as_str(),
        "XAmzContentSHA256Mismatch"
    );
    let (_, err) = collect_verified(verify_sha256(pieces(), "not hex".to_string()));
    assert_eq!(err, Some(ChunkError::XAmzContentSha256Mismatch));
}

#[test]
fn verify_checksum_plain_body() {
    let data = b"123456789".to_vec();
    let pieces = || {
        stream::iter(
            data.chunks(2)
                .map(|c| Ok::<_, io::Error>(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        )
    };
    for alg in ChecksumAlgorithm::ALL {
        let (out, err) = collect_verified(verify_checksum(pieces(), alg, alg.checksum(&data)));
        assert_eq!((out.as_slice(), err), (data.as_slice(), None), "{alg}");
        let (out, err) =
            collect_verified(verify_checksum(pieces(), alg, alg.checksum(b"12345678")));
        assert_eq!(out, data);
        assert_eq!(err, Some(ChunkError::BadDigest), "{alg}");
    }
    let (_, err) = collect_verified(verify_checksum(
        pieces(),
        ChecksumAlgorithm::Crc32,
        "y/Q5Jg==".to_string(),
    ));
    assert_eq!(err, None);
}

fn cuts_from(len: usize, seeds: &[usize]) -> Vec<usize> {
    let mut cuts: Vec<usize> = seeds.iter().map(|s| s % (len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_random_payloads(
        data in proptest::collection::vec(any::<u8>(), 0..20_000),
        chunk_size in 1usize..5000,
        seeds in proptest::collection::vec(any::<usize>(), 0..40),
        signed in any::<bool>(),
        alg_index in 0usize..6,
    ) {
        let trailer = ChecksumAlgorithm::ALL.get(alg_index).copied();
        let encoder = Encoder {
            signing: signed.then(|| signing(SEED)),
            trailers: trailer
                .map(|alg| (alg.header_name().to_string(), alg.checksum(&data)))
                .into_iter()
                .collect(),
            trailer_signed: signed && trailer.is_some(),
        };
        let chunks: Vec<&[u8]> = data.chunks(chunk_size).collect();
        let (body, _) = encoder.encode(&chunks);
        let opts = ChunkedOptions {
            signing: signed.then(|| signing(SEED)),
            trailer,
            trailer_signed: signed && trailer.is_some(),
            decoded_length: Some(data.len() as u64),
        };
        let cuts = cuts_from(body.len(), &seeds);
        let (out, err) = run(split_at(&body, &cuts), opts);
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(out, data);
    }
}
