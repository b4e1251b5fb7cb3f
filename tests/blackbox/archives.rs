//! Tarn's many-objects extension: tar archives up (all or nothing) and down
//! (in the order asked), through the API, with archives written by the
//! test's tar crate and by the system's `tar`.

use crate::support;

use md5::{Digest, Md5};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::api::Api;
use support::tar::{archive, entries, File};

async fn post_archive(api: &Api, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let resp = api
        .req(Method::POST, path)
        .header("content-type", "application/x-tar")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get_archive(api: &Api, repo: &str, reference: &str, paths: &[&str]) -> reqwest::Response {
    api.req(
        Method::POST,
        &format!("/repositories/{repo}/refs/{reference}/objects/archive"),
    )
    .json(&json!({ "paths": paths }))
    .send()
    .await
    .unwrap()
}

async fn object(api: &Api, repo: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let resp = api
        .req(
            Method::GET,
            &format!("/repositories/{repo}/refs/main/objects"),
        )
        .query(&[("path", path)])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.bytes().await.unwrap().to_vec())
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Every file of an archive lands at its path (under the prefix asked for)
/// with its bytes, content type and metadata, small ones and one large
/// enough to stream; the answer lists them in order with their MD5s; the
/// download of a list of paths gives them back in that order, with ETags
/// and mtimes, and the system's `tar` extracts it.
#[tokio::test]
async fn an_archive_goes_up_whole_and_comes_back_in_the_order_asked() {
    let api = Api::start().await;
    api.repo("arch").await;
    let long = format!("deep/{}/end.json", "x".repeat(150));
    let mut tagged = File::new("a.txt", "alpha");
    tagged.described.content_type = Some("text/plain".into());
    for (k, v) in [
        ("owner", "tests"),
        ("::lakefs::client-mtime", "1700000000"),
        ("empty", ""),
        ("k=ey", "v=al"),
    ] {
        tagged.described.metadata.insert(k.into(), v.into());
    }
    let files = vec![
        tagged,
        File::new("dir/ü name %+.bin", bytes(5000, 1)),
        File::new(&long, bytes(700, 2)),
        File::new("big/blob", bytes(1_500_000, 3)),
        File::new("empty", Vec::new()),
    ];
    let (s, v) = post_archive(
        &api,
        "/repositories/arch/branches/main/objects/archive?prefix=in/",
        archive(&files).await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), files.len(), "{v}");
    for (f, r) in files.iter().zip(results) {
        let path = format!("in/{}", f.path);
        assert_eq!(r["path"], path.as_str());
        assert_eq!(r["checksum"], hex::encode(Md5::digest(&f.data)), "{path}");
        assert_eq!(r["size_bytes"], f.data.len() as u64, "{path}");
        let (status, body) = object(&api, "arch", &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body == f.data, "{path}: bytes differ");
    }
    let (_, st) = api
        .json(
            Method::GET,
            "/repositories/arch/refs/main/objects/stat?path=in/a.txt&user_metadata=true",
            None,
        )
        .await;
    assert_eq!(st["content_type"], "text/plain", "{st}");
    assert_eq!(st["metadata"]["owner"], "tests", "{st}");
    assert_eq!(st["metadata"]["empty"], "", "{st}");
    assert_eq!(st["metadata"]["k=ey"], "v=al", "{st}");

    let asked = [
        "in/big/blob",
        "in/a.txt",
        long_in(&long),
        "in/dir/ü name %+.bin",
    ];
    let resp = get_archive(&api, "arch", "main", &asked).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-tar");
    let tar = resp.bytes().await.unwrap().to_vec();
    let got = entries(&tar).await;
    let paths: Vec<&str> = got.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, asked);
    for e in &got {
        let original = files
            .iter()
            .find(|f| format!("in/{}", f.path) == e.path)
            .unwrap();
        assert!(e.data == original.data, "{}: bytes differ", e.path);
        let checksum = e.described.checksum.clone().unwrap();
        assert_eq!(checksum, hex::encode(Md5::digest(&e.data)));
    }
    let a = got.iter().find(|e| e.path == "in/a.txt").unwrap();
    assert_eq!(
        a.described.mtime, 1_700_000_000,
        "the client mtime is the file's"
    );
    assert_eq!(a.described.metadata["owner"], "tests");
    assert_eq!(a.described.metadata["empty"], "");
    assert_eq!(a.described.metadata["k=ey"], "v=al");
    assert_eq!(a.described.content_type.as_deref(), Some("text/plain"));

    // A path asked for twice comes twice.
    let resp = get_archive(&api, "arch", "main", &["in/a.txt", "in/empty", "in/a.txt"]).await;
    let twice = entries(&resp.bytes().await.unwrap()).await;
    let paths: Vec<&str> = twice.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["in/a.txt", "in/empty", "in/a.txt"]);
    assert_eq!(twice[2].data, b"alpha");

    // The system's tar reads the PAX paths.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.tar");
    std::fs::write(&file, &tar).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&file)
        .arg("-C")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read(dir.path().join("in/dir/ü name %+.bin")).unwrap(),
        bytes(5000, 1)
    );
    assert_eq!(
        std::fs::read(dir.path().join(long_in(&long))).unwrap(),
        bytes(700, 2)
    );
}

fn long_in(long: &str) -> &'static str {
    Box::leak(format!("in/{long}").into_boxed_str())
}

/// An archive made by the system's `tar -C dir -c .` (directories, `./`
/// names, GNU or PAX headers as tar chooses): its files land at their
/// relative paths, directories are skipped.
#[tokio::test]
async fn an_archive_from_the_system_tar_uploads_its_files() {
    let api = Api::start().await;
    api.repo("systar").await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
    std::fs::write(src.join("top.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(src.join("sub/deeper/img.bin"), bytes(3000, 9)).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-C")
        .arg(&src)
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (s, v) = post_archive(
        &api,
        "/repositories/systar/branches/main/objects/archive",
        out.stdout,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let mut paths: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["sub/deeper/img.bin", "top.csv"]);
    assert_eq!(object(&api, "systar", "top.csv").await.1, b"a,b\n1,2\n");
    assert!(object(&api, "systar", "sub/deeper/img.bin").await.1 == bytes(3000, 9));
}

/// A bad archive (a symlink after good files, a body cut short, no file at
/// all, a path the API refuses) answers 400 and stages none of its files;
/// downloads of a missing path answer 404 and of too many paths 400.
#[tokio::test]
async fn a_bad_archive_stages_nothing() {
    let api = Api::start().await;
    api.repo("bad").await;
    let upload = "/repositories/bad/branches/main/objects/archive";
    let good = [File::new("good/1", "one"), File::new("good/2", "two")];

    // Good files, then a symlink.
    let mut tar = archive(&good).await;
    tar.truncate(tar.len() - 1024); // drop the end-of-archive blocks
    let mut link = tarn_archive_protocol::tar::Header::new_ustar();
    link.set_entry_type(tarn_archive_protocol::tar::EntryType::Symlink);
    link.set_path("good/link").unwrap();
    link.set_link_name("good/1").unwrap();
    link.set_size(0);
    link.set_cksum();
    tar.extend_from_slice(link.as_bytes());
    tar.extend_from_slice(&[0u8; 1024]);
    let (s, v) = post_archive(&api, upload, tar).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("good/link"), "{v}");

    // An archive cut at an entry's boundary: a tar reader takes the cut
    // for the end, the server does not.
    let whole = archive(&good).await;
    let (s, v) = post_archive(&api, upload, whole[..whole.len() - 1024].to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("cut short"), "{v}");

    // A body cut in the middle of the last file's data.
    let mut big = good
        .iter()
        .map(|f| File::new(f.path, f.data.clone()))
        .collect::<Vec<_>>();
    big.push(File::new("good/3", bytes(100_000, 4)));
    let mut cut = archive(&big).await;
    cut.truncate(cut.len() - 1024 - 50_000);
    let (s, v) = post_archive(&api, upload, cut).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // No file at all; then a path the API refuses (empty after the prefix).
    let (s, v) = post_archive(&api, upload, Vec::new()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("no files"), "{v}");
    let (s, v) = post_archive(&api, upload, archive(&[File::new("./", "x")]).await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    for p in ["good/1", "good/2", "good/3"] {
        assert_eq!(object(&api, "bad", p).await.0, StatusCode::NOT_FOUND, "{p}");
    }
    let (_, diff) = api
        .json(Method::GET, "/repositories/bad/branches/main/diff", None)
        .await;
    assert_eq!(diff["results"], json!([]), "nothing staged: {diff}");

    // Downloads.
    api.upload("bad", "main", "there", "x").await;
    let resp = get_archive(&api, "bad", "main", &["there", "not-there"]).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let v: Value = resp.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("not-there"), "{v}");
    let many: Vec<String> = (0..4097).map(|i| format!("p{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let resp = get_archive(&api, "bad", "main", &many).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = get_archive(&api, "bad", "no-such-branch", &["there"]).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = get_archive(&api, "bad", "main", &[]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "no paths");
}

/// After an archive upload a commit holds every file; a branch that does
/// not exist is 404, and a protected branch refuses the archive whole.
#[tokio::test]
async fn an_archive_upload_is_committed_and_protected_branches_refuse_it() {
    let api = Api::start().await;
    api.repo("whole").await;
    let files: Vec<File> = (0..300)
        .map(|i| {
            File::new(
                Box::leak(format!("f/{i:03}").into_boxed_str()),
                bytes(i, i as u8),
            )
        })
        .collect();
    let (s, v) = post_archive(
        &api,
        "/repositories/whole/branches/main/objects/archive",
        archive(&files).await,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let c = api.commit("whole", "main", "all of them").await;
    let id = c["id"].as_str().unwrap();
    let (_, ls) = api
        .json(
            Method::GET,
            &format!("/repositories/whole/refs/{id}/objects/ls?amount=1000"),
            None,
        )
        .await;
    assert_eq!(ls["results"].as_array().unwrap().len(), 300);
    let resp = get_archive(&api, "whole", id, &["f/299", "f/000"]).await;
    let got = entries(&resp.bytes().await.unwrap()).await;
    assert!(got[0].data == bytes(299, 299u32 as u8));
    assert!(got[1].data.is_empty());
    let (s, _) = post_archive(
        &api,
        "/repositories/whole/branches/nope/objects/archive",
        archive(&files[..1]).await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let resp = api
        .req(
            Method::PUT,
            "/repositories/whole/settings/branch_protection",
        )
        .json(&json!([{"pattern": "main"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (s, v) = post_archive(
        &api,
        "/repositories/whole/branches/main/objects/archive",
        archive(&[File::new("f/new", "x")]).await,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(
        object(&api, "whole", "f/new").await.0,
        StatusCode::NOT_FOUND
    );
}
