//! The run manifest lakeFS writes beside a run's hook logs:
//! `_lakefs/actions/log/<run>/run.manifest`, JSON of the run and its hooks,
//! rewritten when a pre-commit run learns its commit.

use super::event_info::rfc3339_seconds;
use serde::Serialize;
use tarn_model::runs::{ActionRun, HookRun};
use tarn_model::Timestamp;

#[derive(Serialize)]
struct Manifest<'a> {
    run: RunPart<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hooks: Vec<HookPart<'a>>,
}

#[derive(Serialize)]
struct RunPart<'a> {
    run_id: &'a str,
    branch_id: &'a str,
    source_ref: &'a str,
    event_type: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    commit_id: &'a str,
    start_time: String,
    end_time: String,
    passed: bool,
}

#[derive(Serialize)]
struct HookPart<'a> {
    run_id: &'a str,
    hook_run_id: &'a str,
    hook_id: &'a str,
    action_name: &'a str,
    start_time: String,
    end_time: String,
    passed: bool,
}

/// The zero time of Go, for hooks that never started.
const ZERO: &str = "0001-01-01T00:00:00Z";

/// RFC 3339 with the fraction Go's RFC3339Nano writes (trailing zeros
/// dropped).
pub fn rfc3339_nano(t: Timestamp) -> String {
    let micros = t.unix_micros();
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let base = rfc3339_seconds(secs);
    if frac == 0 {
        return base;
    }
    let digits = format!("{frac:06}");
    format!(
        "{}.{}Z",
        base.trim_end_matches('Z'),
        digits.trim_end_matches('0')
    )
}

fn time_of(t: Option<Timestamp>) -> String {
    t.map_or_else(|| ZERO.to_owned(), rfc3339_nano)
}

/// The manifest's bytes.
pub fn manifest(run: &ActionRun, hooks: &[HookRun]) -> Vec<u8> {
    let m = Manifest {
        run: RunPart {
            run_id: &run.run_id,
            branch_id: &run.branch,
            source_ref: &run.source_ref,
            event_type: &run.event_type,
            commit_id: &run.commit_id,
            start_time: rfc3339_nano(run.start_time),
            end_time: rfc3339_nano(run.end_time),
            passed: run.passed,
        },
        hooks: hooks
            .iter()
            .map(|h| HookPart {
                run_id: &h.run_id,
                hook_run_id: &h.hook_run_id,
                hook_id: &h.hook_id,
                action_name: &h.action_name,
                start_time: time_of(h.start_time),
                end_time: time_of(h.end_time),
                passed: h.passed,
            })
            .collect(),
    };
    serde_json::to_vec(&m).unwrap_or_default()
}

/// Where a run's manifest lives in its namespace.
pub fn manifest_key(run_id: &str) -> String {
    format!("_lakefs/actions/log/{run_id}/run.manifest")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_model::RepositoryId;

    #[test]
    fn manifests_carry_the_run_and_its_hooks() {
        let run = ActionRun {
            repository: RepositoryId::new("repo1").unwrap(),
            run_id: "r1".into(),
            event_type: "pre-commit".into(),
            branch: "main".into(),
            source_ref: "main".into(),
            commit_id: String::new(),
            start_time: Timestamp::from_unix_micros(1_700_000_000_250_000),
            end_time: Timestamp::from_unix_micros(1_700_000_001_000_000),
            passed: false,
        };
        let hooks = [HookRun {
            run_id: "r1".into(),
            hook_run_id: "0000_0000".into(),
            hook_id: "h".into(),
            action_name: "A".into(),
            start_time: None,
            end_time: None,
            passed: false,
        }];
        let v: serde_json::Value = serde_json::from_slice(&manifest(&run, &hooks)).unwrap();
        assert_eq!(v["run"]["start_time"], "2023-11-14T22:13:20.25Z");
        assert_eq!(v["run"]["end_time"], "2023-11-14T22:13:21Z");
        assert!(v["run"].get("commit_id").is_none(), "omitted while empty");
        assert_eq!(v["run"]["passed"], false);
        assert_eq!(v["hooks"][0]["start_time"], ZERO);
        assert_eq!(v["hooks"][0]["hook_run_id"], "0000_0000");
    }
}
