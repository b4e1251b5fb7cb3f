//! Black-box tests of `tarn run`: start the real binary, talk HTTP to it.

use crate::support;

use support::TarnProcess;

#[tokio::test]
async fn quickstart_serves_health_and_prints_credentials() {
    let tarn = TarnProcess::quickstart().await;
    let resp = reqwest::get(format!("{}/_health", tarn.url)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "alive!");
    assert!(
        tarn.banner.contains("AKIAIOSFOLQUICKSTART"),
        "{}",
        tarn.banner
    );
    assert!(
        tarn.banner
            .contains("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "{}",
        tarn.banner
    );
}

#[tokio::test]
async fn unknown_paths_are_the_uis_or_json_404() {
    let tarn = TarnProcess::quickstart().await;
    // A GET outside the API is a route of the web UI (deep links work).
    let page = reqwest::get(format!("{}/no/such/thing", tarn.url))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    // Anything else there, and missing UI assets, are JSON 404s.
    let http = reqwest::Client::new();
    for resp in [
        http.post(format!("{}/no/such/thing", tarn.url))
            .send()
            .await
            .unwrap(),
        http.get(format!("{}/assets/missing.js", tarn.url))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(resp.status(), 404);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(body["message"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn quickstart_keeps_object_data_under_the_data_dir() {
    use support::Run;
    if Run::skip_unless(
        &[Run::DEFAULT, Run::POSTGRES, Run::SQLITE],
        "objects go to S3 on this run, not under the data dir",
    ) {
        return;
    }
    let tarn = TarnProcess::quickstart().await;
    assert!(tarn.data_dir.path().join("block").is_dir());
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let mut tarn = TarnProcess::quickstart().await;
    let status = tarn.terminate().await;
    assert!(status.success(), "exit status {status:?}");
    assert!(reqwest::get(format!("{}/_health", tarn.url)).await.is_err());
}

#[tokio::test]
async fn invalid_configuration_is_refused_with_a_message() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(["run", "--listen", "127.0.0.1:0"])
        .env("TARN_DATABASE__TYPE", "oracle")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("oracle"), "{err}");
}

#[tokio::test]
async fn an_address_in_use_is_reported() {
    let tarn = TarnProcess::quickstart().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(["run", "--quickstart", "--listen", tarn.addr.as_str()])
        .arg("--data-dir")
        .arg(tarn.data_dir.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen"), "{err}");
}
