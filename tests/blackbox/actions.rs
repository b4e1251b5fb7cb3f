//! Actions and hooks, through the binary.

use std::io::Write;
use std::process::{Command, Stdio};

/// `tarn actions validate <args>` with `stdin`: success, stdout, stderr.
fn validate(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(["actions", "validate"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_validates_action_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("gate.yaml");
    std::fs::write(
        &good,
        "name: Gate\non:\n  pre-merge:\n    branches: [main]\nhooks:\n  - id: check\n    type: webhook\n    properties:\n      url: http://127.0.0.1:9/\n",
    )
    .unwrap();
    let (ok, out, err) = validate(&[good.to_str().unwrap()], "");
    assert!(ok, "{err}");
    assert!(
        out.contains("valid action \"Gate\": 1 hook(s) on pre-merge (main)"),
        "{out}"
    );

    let (ok, _, err) = validate(&["-"], "name: Gate\non:\n  pre-push:\n");
    assert!(!ok);
    assert!(
        err.contains("event 'pre-push' is not supported: invalid action"),
        "{err}"
    );

    let (ok, _, err) = validate(&[dir.path().join("missing.yaml").to_str().unwrap()], "");
    assert!(!ok);
    assert!(err.contains("cannot read"), "{err}");
}
