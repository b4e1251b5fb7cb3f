//! An acknowledged write survives a crash: small uploads from many
//! connections at once (the path where concurrent writes share one
//! metadata transaction and data files are written in one step), and
//! archives of 50 files (written with one sync, staged in one transaction),
//! are cut off by SIGKILL; after a restart on the same data, every upload
//! and every archive that was answered 201 reads back whole, nothing
//! half-written is listed, and of each archive all files or none are.
//! Runs on SQLite (the default run) and on PostgreSQL (the PostgreSQL run).
//!
//! A kill loses what the process holds, not what the kernel holds: the
//! ordering that makes a power loss safe too (data synced before its name,
//! its name synced before the metadata names it, the metadata synced before
//! the answer) is described in docs/operating.md ("Durability").

use crate::support;

use md5::{Digest, Md5};
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Run, TarnProcess, KEY, SECRET};

/// The body of upload `i`: distinct per upload, 1 KiB.
fn body(i: usize) -> String {
    format!("{i:09}-").repeat(103)[..1024].to_owned()
}

/// Files an archive holds.
const PER_ARCHIVE: usize = 50;

/// The upload number of a path: `wWW/NNNNNN` (single uploads) or
/// `aWW/NNNNNN-KK` (file KK of an archive).
fn index_of(path: &str) -> usize {
    let (w, rest) = path.split_once('/').unwrap();
    let writer = w[1..].parse::<usize>().unwrap();
    match rest.split_once('-') {
        None => writer * 1_000_000 + rest.parse::<usize>().unwrap(),
        Some((n, k)) => {
            500_000_000
                + writer * 1_000_000
                + n.parse::<usize>().unwrap() * PER_ARCHIVE
                + k.parse::<usize>().unwrap()
        }
    }
}

/// The archive file of a path, if it came in one: `aWW/NNNNNN`.
fn archive_of(path: &str) -> Option<&str> {
    path.starts_with('a')
        .then(|| path.split_once('-').unwrap().0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answered_uploads_survive_a_kill_mid_load() {
    if Run::skip_unless(
        &[Run::DEFAULT, Run::POSTGRES],
        "the crash is checked on SQLite (the default run) and on PostgreSQL (the PostgreSQL run)",
    ) {
        return;
    }
    let env = if Run::current() == Run::POSTGRES {
        support::database_env().await
    } else {
        Vec::new()
    };
    let mut tarn = TarnProcess::start(tempfile::tempdir().unwrap(), &env).await;
    let url = tarn.url.clone();
    let (s, v) = support::api_json(
        &Client::new(),
        &url,
        reqwest::Method::POST,
        "/repositories",
        Some(serde_json::json!({"name": "crash", "storage_namespace": "local://crash"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // 32 writers upload until the kill; each records what was answered 201.
    let answered: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let http = Client::new();
    let mut writers = Vec::new();
    for w in 0..32usize {
        let (http, url, answered) = (http.clone(), url.clone(), answered.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let i = w * 1_000_000 + n;
                let path = format!("w{w:02}/{n:06}");
                let sent = http
                    .post(format!(
                        "{url}/api/v1/repositories/crash/branches/main/objects"
                    ))
                    .basic_auth(KEY, Some(SECRET))
                    .query(&[("path", &path)])
                    .body(body(i))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        answered.lock().unwrap().insert(path, i);
                    }
                    // The server is gone: stop.
                    _ => return,
                }
            }
        }));
    }
    // And 4 writers of archives.
    for w in 0..4usize {
        let (http, url, answered) = (http.clone(), url.clone(), answered.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let paths: Vec<String> = (0..PER_ARCHIVE)
                    .map(|k| format!("a{w:02}/{n:06}-{k:02}"))
                    .collect();
                let files: Vec<support::tar::File> = paths
                    .iter()
                    .map(|p| support::tar::File::new(p, body(index_of(p))))
                    .collect();
                let sent = http
                    .post(format!(
                        "{url}/api/v1/repositories/crash/branches/main/objects/archive"
                    ))
                    .basic_auth(KEY, Some(SECRET))
                    .body(support::tar::archive(&files).await)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        let mut answered = answered.lock().unwrap();
                        for p in paths {
                            let i = index_of(&p);
                            answered.insert(p, i);
                        }
                    }
                    _ => return,
                }
            }
        }));
    }
    // Let the load run, then cut it off mid-flight.
    let before = tokio::time::Instant::now();
    let archived = |a: &BTreeMap<String, usize>| a.keys().filter(|p| p.starts_with('a')).count();
    while (answered.lock().unwrap().len() < 300 || archived(&answered.lock().unwrap()) < 200)
        && before.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tarn.kill().await;
    for w in writers {
        w.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 300 && archived(&answered) >= 200,
        "only {} uploads ({} in archives) before the kill",
        answered.len(),
        archived(&answered)
    );

    let dir = std::mem::replace(&mut tarn.data_dir, tempfile::tempdir().unwrap());
    let tarn = TarnProcess::start(dir, &env).await;
    let url = tarn.url;
    // Every answered upload reads back whole.
    for (path, &i) in &answered {
        let resp = http
            .get(format!("{url}/api/v1/repositories/crash/refs/main/objects"))
            .basic_auth(KEY, Some(SECRET))
            .query(&[("path", path)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{path} was answered 201 before the kill"
        );
        assert_eq!(resp.text().await.unwrap(), body(i), "{path}");
    }
    // Everything listed has the size and checksum of what was sent.
    let mut after = String::new();
    let mut listed = 0;
    let mut extra = Vec::new();
    let mut per_archive: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        let (s, page) = support::api_json(
            &http,
            &url,
            reqwest::Method::GET,
            &format!("/repositories/crash/refs/main/objects/ls?amount=1000&after={after}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for o in page["results"].as_array().unwrap() {
            let path = o["path"].as_str().unwrap();
            let i = index_of(path);
            if let Some(a) = archive_of(path) {
                *per_archive.entry(a.to_owned()).or_default() += 1;
            }
            assert_eq!(o["size_bytes"], 1024, "{path}");
            assert_eq!(o["checksum"], hex::encode(Md5::digest(body(i))), "{path}");
            if !answered.contains_key(path) {
                extra.push((path.to_owned(), i));
            }
            listed += 1;
        }
        if page["pagination"]["has_more"] != true {
            break;
        }
        after = page["pagination"]["next_offset"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    assert!(
        listed >= answered.len(),
        "{listed} listed, {} answered",
        answered.len()
    );
    // Of each archive, all files or none.
    for (archive, n) in &per_archive {
        assert_eq!(
            *n, PER_ARCHIVE,
            "{archive}: {n} of {PER_ARCHIVE} files listed"
        );
    }
    // Those listed but never answered (cut off after their metadata was
    // written) read back whole too.
    for (path, i) in extra {
        let resp = http
            .get(format!("{url}/api/v1/repositories/crash/refs/main/objects"))
            .basic_auth(KEY, Some(SECRET))
            .query(&[("path", &path)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path} is listed");
        assert_eq!(resp.text().await.unwrap(), body(i), "{path}");
    }
}
