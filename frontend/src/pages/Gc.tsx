import { FormEvent, useEffect, useState } from "react";
import { ApiError, del, enc, formatSize, get, newest, post, put } from "../api";
import { Empty, ErrorBox, Loading, useAction, useAsync } from "../components/common";
import { Compactions } from "./Compactions";
import { useRepo } from "./RepoLayout";

interface Rules {
  default_retention_days: number;
  branches: { branch_id: string; retention_days: number }[];
}
interface Tally {
  objects: number;
  bytes: number;
}
interface GcRun {
  id: string;
  mode: "full" | "dry_run" | "mark_only" | "sweep";
  sweep_run?: string;
  state: "pending" | "running" | "succeeded" | "failed" | "canceled";
  progress: { done: number; total?: number; message: string };
  error?: string;
  cancel_requested: boolean;
  creation_date: string;
  update_date: string;
  report?: {
    as_of: string;
    grace_cutoff: string;
    commits: number;
    kept_commits: number;
    scanned: Tally;
    live: Tally;
    skipped_grace: Tally;
    garbage: Tally;
    deleted: Tally;
    uploads_aborted: number;
    marked: boolean;
    swept: boolean;
    branches: { branch: string; objects: number; bytes: number }[];
  };
}

const MODES: Record<GcRun["mode"], string> = {
  full: "Collect",
  dry_run: "Dry run",
  mark_only: "Mark only",
  sweep: "Sweep",
};

function tally(t?: Tally) {
  return t ? `${t.objects.toLocaleString()} (${formatSize(t.bytes)})` : "";
}

/** The retention rules: days by default, and per branch. */
function RulesEditor({ repo }: { repo: string }) {
  const rules = useAsync(
    () =>
      get<Rules>(`/repositories/${enc(repo)}/settings/gc_rules`).catch((e) => {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }),
    [repo],
  );
  const [days, setDays] = useState("");
  const [branches, setBranches] = useState<{ branch_id: string; retention_days: string }[]>([]);
  const action = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (rules.data === undefined) return;
    setDays(rules.data ? String(rules.data.default_retention_days) : "");
    setBranches((rules.data?.branches ?? []).map((b) => ({ branch_id: b.branch_id, retention_days: String(b.retention_days) })));
  }, [rules.data]);
  const save = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    action.run(async () => {
      await put(`/repositories/${enc(repo)}/settings/gc_rules`, {
        default_retention_days: Number(days),
        branches: branches.filter((b) => b.branch_id).map((b) => ({ branch_id: b.branch_id, retention_days: Number(b.retention_days) })),
      });
      setSaved(true);
      rules.reload();
    });
  };
  const remove = () =>
    window.confirm("Remove the retention rules? Committed data then never expires.") &&
    action.run(async () => {
      await del(`/repositories/${enc(repo)}/settings/gc_rules`);
      rules.reload();
    });
  if (rules.loading && rules.data === undefined) return <Loading />;
  return (
    <form onSubmit={save} aria-label="Retention rules" className="gc-rules">
      <h3>Retention rules</h3>
      <ErrorBox error={rules.error || action.error} />
      {rules.data === null && <p className="muted">No rules: every commit is kept; only uncommitted garbage is collected.</p>}
      <label>
        Default retention (days)
        <input name="default_retention_days" type="number" min={0} max={36500} required value={days} onChange={(e) => setDays(e.target.value)} />
      </label>
      {branches.map((b, i) => (
        <div className="row" key={i}>
          <label>
            Branch
            <input
              aria-label={`Branch ${i + 1}`}
              value={b.branch_id}
              onChange={(e) => setBranches(branches.map((x, j) => (j === i ? { ...x, branch_id: e.target.value } : x)))}
            />
          </label>
          <label>
            Days
            <input
              aria-label={`Days for branch ${i + 1}`}
              type="number"
              min={0}
              max={36500}
              value={b.retention_days}
              onChange={(e) => setBranches(branches.map((x, j) => (j === i ? { ...x, retention_days: e.target.value } : x)))}
            />
          </label>
          <button type="button" onClick={() => setBranches(branches.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <div className="actions">
        <button type="button" onClick={() => setBranches([...branches, { branch_id: "", retention_days: days || "7" }])}>
          Add branch rule
        </button>
        {rules.data && (
          <button type="button" className="danger" onClick={remove} disabled={action.busy}>
            Remove rules
          </button>
        )}
        <button type="submit" className="primary" disabled={action.busy}>
          Save rules
        </button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}

function RunRow({ run, onCancel }: { run: GcRun; onCancel: () => void }) {
  const [open, setOpen] = useState(false);
  const r = run.report;
  const live = run.state === "pending" || run.state === "running";
  return (
    <>
      <tr>
        <td>
          <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)} title={run.id}>
            {MODES[run.mode] ?? run.mode}
          </button>
        </td>
        <td>
          <span className={`badge state-${run.state}`}>{run.state}</span>
          {live && run.progress.message && (
            <div className="muted small">
              {run.progress.message}: {run.progress.done.toLocaleString()}
              {run.progress.total ? ` of ${run.progress.total.toLocaleString()}` : ""}
            </div>
          )}
          {run.error && <div className="error small">{run.error}</div>}
        </td>
        <td>{tally(r?.scanned)}</td>
        <td>{tally(r?.live)}</td>
        <td>{tally(r?.garbage)}</td>
        <td>{r?.swept ? tally(r.deleted) : run.mode === "dry_run" ? "—" : ""}</td>
        <td>{new Date(run.creation_date).toLocaleString()}</td>
        <td>
          {live && !run.cancel_requested && (
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr className="details">
          <td colSpan={8}>
            <dl className="props">
              <dt>Run</dt>
              <dd>{run.id}</dd>
              {run.sweep_run && (
                <>
                  <dt>Sweeps the list of</dt>
                  <dd>{run.sweep_run}</dd>
                </>
              )}
              {r && (
                <>
                  <dt>Retention as of</dt>
                  <dd>{new Date(r.as_of).toLocaleString()}</dd>
                  <dt>Commits kept</dt>
                  <dd>
                    {r.kept_commits.toLocaleString()} of {r.commits.toLocaleString()}
                  </dd>
                  <dt>Too young to collect</dt>
                  <dd>{tally(r.skipped_grace)}</dd>
                  <dt>Uploads aborted</dt>
                  <dd>{r.uploads_aborted}</dd>
                  <dt>Kept alive by one branch only</dt>
                  <dd>
                    {r.branches.filter((b) => b.objects > 0).length === 0
                      ? "none"
                      : r.branches
                          .filter((b) => b.objects > 0)
                          .map((b) => `${b.branch}: ${b.objects.toLocaleString()} (${formatSize(b.bytes)})`)
                          .join(", ")}
                  </dd>
                </>
              )}
            </dl>
          </td>
        </tr>
      )}
    </>
  );
}

export function GcPage() {
  const { repo } = useRepo();
  const runs = useAsync(() => newest<GcRun>(`/repositories/${enc(repo.id)}/gc/runs`, 100), [repo.id]);
  const action = useAction();
  const active = runs.data?.some((r) => r.state === "pending" || r.state === "running");
  // Refresh while a run is under way.
  useEffect(() => {
    if (!active) return;
    const t = window.setTimeout(runs.reload, 1000);
    return () => window.clearTimeout(t);
  }, [active, runs.data, runs.reload]);
  const start = (mode: GcRun["mode"]) =>
    action.run(async () => {
      await post(`/repositories/${enc(repo.id)}/gc/runs`, { mode });
      runs.reload();
    });
  const cancel = (id: string) =>
    action.run(async () => {
      await del(`/repositories/${enc(repo.id)}/gc/runs/${enc(id)}`);
      runs.reload();
    });
  const newestFirst = runs.data ?? [];
  return (
    <div>
      <div className="bar">
        <h2>Garbage collection</h2>
        <span className="grow" />
        <button type="button" onClick={() => start("dry_run")} disabled={action.busy}>
          Start dry run
        </button>
        <button
          type="button"
          className="danger"
          disabled={action.busy}
          onClick={() => window.confirm("Delete this repository's garbage now? Deleted data cannot be restored.") && start("full")}
        >
          Collect now
        </button>
      </div>
      <ErrorBox error={runs.error || action.error} />
      <RulesEditor repo={repo.id} />
      <h3>Runs</h3>
      {runs.loading && !runs.data ? (
        <Loading />
      ) : newestFirst.length === 0 ? (
        <Empty>No runs yet.</Empty>
      ) : (
        <table className="listing" aria-label="gc runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>State</th>
              <th>Scanned</th>
              <th>Live</th>
              <th>Garbage</th>
              <th>Deleted</th>
              <th>Started</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {newestFirst.map((r) => (
              <RunRow key={r.id} run={r} onCancel={() => cancel(r.id)} />
            ))}
          </tbody>
        </table>
      )}
      <Compactions repo={repo.id} />
    </div>
  );
}
