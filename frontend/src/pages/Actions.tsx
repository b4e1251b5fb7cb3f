import { FormEvent, useState } from "react";
import { API, ApiError, enc, get, Listing, shortRef } from "../api";
import { Empty, ErrorBox, Loading, Pager, useAsync, usePager } from "../components/common";
import { useRepo } from "./RepoLayout";

interface ActionRun {
  run_id: string;
  branch: string;
  start_time: string;
  end_time?: string;
  event_type: string;
  status: "completed" | "failed" | "skipped" | "running";
  commit_id?: string;
}

interface HookRun {
  hook_run_id: string;
  action: string;
  hook_id: string;
  start_time: string;
  end_time?: string;
  status: "completed" | "failed" | "skipped" | "running";
}

/** A hook's log (text, not JSON). */
async function hookOutput(repo: string, run: string, hook: string): Promise<string> {
  const resp = await fetch(`${API}/repositories/${enc(repo)}/actions/runs/${enc(run)}/hooks/${enc(hook)}/output`, { credentials: "same-origin" });
  const text = await resp.text();
  if (!resp.ok) {
    let message = `${resp.status} ${resp.statusText}`;
    try {
      message = JSON.parse(text).message ?? message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(resp.status, message, text);
  }
  return text;
}

function HookRow({ repo, run, hook }: { repo: string; run: string; hook: HookRun }) {
  const [open, setOpen] = useState(false);
  const output = useAsync(async () => (open ? hookOutput(repo, run, hook.hook_run_id) : null), [open, repo, run, hook.hook_run_id]);
  return (
    <li>
      <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>
        {hook.action} / {hook.hook_id}
      </button>{" "}
      <span className={`badge status-${hook.status}`}>{hook.status}</span>
      {open && (
        <>
          {output.loading && <Loading />}
          <ErrorBox error={output.error} />
          {output.data !== null && output.data !== undefined && (
            <pre className="hook-output" aria-label={`Output of ${hook.hook_id}`}>
              {output.data || "(no output)"}
            </pre>
          )}
        </>
      )}
    </li>
  );
}

function RunRow({ repo, run }: { repo: string; run: ActionRun }) {
  const [open, setOpen] = useState(false);
  const hooks = useAsync(
    async () => (open ? get<Listing<HookRun>>(`/repositories/${enc(repo)}/actions/runs/${enc(run.run_id)}/hooks`, { amount: 1000 }) : null),
    [open, repo, run.run_id],
  );
  return (
    <>
      <tr>
        <td>
          <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)} aria-label={`Run ${run.run_id}`}>
            <code>{run.run_id}</code>
          </button>
        </td>
        <td>{run.event_type}</td>
        <td>{run.branch}</td>
        <td>{run.commit_id ? <code title={run.commit_id}>{shortRef(run.commit_id)}</code> : ""}</td>
        <td>
          <span className={`badge status-${run.status}`}>{run.status}</span>
        </td>
        <td>{new Date(run.start_time).toLocaleString()}</td>
      </tr>
      {open && (
        <tr className="details">
          <td colSpan={6}>
            {hooks.loading && <Loading />}
            <ErrorBox error={hooks.error} />
            {hooks.data && hooks.data.results.length === 0 && <p className="muted">No hooks ran (an action file could not be read).</p>}
            {hooks.data && (
              <ul className="hook-runs" aria-label="Hooks">
                {hooks.data.results.map((h) => (
                  <HookRow key={h.hook_run_id} repo={repo} run={run.run_id} hook={h} />
                ))}
              </ul>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

/** The runs of the repository's action files (`_lakefs_actions/`), newest first, with each hook's output. */
export function ActionsPage() {
  const { repo } = useRepo();
  const [filter, setFilter] = useState({ branch: "", commit: "" });
  const [draft, setDraft] = useState(filter);
  const pager = usePager(`${filter.branch}|${filter.commit}`);
  const runs = useAsync(
    () =>
      get<Listing<ActionRun>>(`/repositories/${enc(repo.id)}/actions/runs`, {
        branch: filter.branch,
        commit: filter.commit,
        after: pager.after,
        amount: 50,
      }),
    [repo.id, filter.branch, filter.commit, pager.after],
  );
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft);
  };
  return (
    <div>
      <form className="bar" onSubmit={apply} aria-label="Filter runs">
        <input type="search" aria-label="Branch" placeholder="Branch" value={draft.branch} onChange={(e) => setDraft({ ...draft, branch: e.target.value })} />
        <input type="search" aria-label="Commit" placeholder="Commit id" value={draft.commit} onChange={(e) => setDraft({ ...draft, commit: e.target.value })} />
        <button type="submit">Filter</button>
        <button type="button" className="link" onClick={runs.reload}>
          Refresh
        </button>
      </form>
      <ErrorBox error={runs.error} />
      {runs.loading && !runs.data && <Loading />}
      {runs.data && runs.data.results.length === 0 && (
        <Empty>
          No runs. Action files in <code>_lakefs_actions/</code> run hooks on commits, merges and branch and tag events.
        </Empty>
      )}
      {runs.data && runs.data.results.length > 0 && (
        <table aria-label="action runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Event</th>
              <th>Branch</th>
              <th>Commit</th>
              <th>Status</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.results.map((r) => (
              <RunRow key={r.run_id} repo={repo.id} run={r} />
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} hasMore={runs.data?.pagination.has_more} nextOffset={runs.data?.pagination.next_offset} />
    </div>
  );
}
