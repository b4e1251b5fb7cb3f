import { useEffect } from "react";
import { del, enc, newest, post } from "../api";
import { Empty, ErrorBox, Loading, useAction, useAsync } from "../components/common";

/** A `trees.compact` job: folds large layers into plain trees (docs/trees.md). */
interface Compaction {
  id: string;
  state: "pending" | "running" | "succeeded" | "failed" | "canceled";
  progress: { done: number; total?: number; message: string };
  error?: string;
  cancel_requested: boolean;
  creation_date: string;
  update_date: string;
  report?: { branches: number; folded: number; already: number; records: number };
}

function outcome(c: Compaction): string {
  if (c.report) {
    const { branches, folded, records, already } = c.report;
    const n = (k: number, one: string, many: string) => `${k.toLocaleString()} ${k === 1 ? one : many}`;
    return `${n(branches, "branch", "branches")} looked at; ${n(folded, "layer", "layers")} folded (${n(records, "record", "records")}); ${already.toLocaleString()} already folded`;
  }
  return c.error ?? c.progress.message;
}

/** A repository's tree compactions: started by commits, or by hand here. */
export function Compactions({ repo }: { repo: string }) {
  const base = `/repositories/${enc(repo)}/trees/compactions`;
  const list = useAsync(() => newest<Compaction>(base, 100), [base]);
  const action = useAction();
  const active = list.data?.some((c) => c.state === "pending" || c.state === "running");
  // Refresh while one is under way.
  useEffect(() => {
    if (!active) return;
    const t = window.setTimeout(list.reload, 1000);
    return () => window.clearTimeout(t);
  }, [active, list.data, list.reload]);
  const start = () =>
    action.run(async () => {
      await post(base, {});
      list.reload();
    });
  const cancel = (id: string) =>
    action.run(async () => {
      await del(`${base}/${enc(id)}`);
      list.reload();
    });
  const newestFirst = list.data ?? [];
  return (
    <section>
      <div className="bar">
        <h3>Tree compactions</h3>
        <span className="grow" />
        <button type="button" onClick={start} disabled={action.busy}>
          Compact trees now
        </button>
      </div>
      <p className="muted small">
        A commit onto a large tree writes only a layer of its changes; once a layer is large, a compaction folds it into
        the tree in the background. Commits start them on their own.
      </p>
      <ErrorBox error={list.error || action.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : newestFirst.length === 0 ? (
        <Empty>No compactions yet.</Empty>
      ) : (
        <table className="listing" aria-label="tree compactions">
          <thead>
            <tr>
              <th>Compaction</th>
              <th>State</th>
              <th>Outcome</th>
              <th>Started</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {newestFirst.map((c) => {
              const live = c.state === "pending" || c.state === "running";
              return (
                <tr key={c.id}>
                  <td className="mono small">{c.id}</td>
                  <td>
                    <span className={`badge state-${c.state}`}>{c.state}</span>
                  </td>
                  <td className={c.error ? "error small" : "small"}>{outcome(c)}</td>
                  <td>{new Date(c.creation_date).toLocaleString()}</td>
                  <td>
                    {live && !c.cancel_requested && (
                      <button type="button" onClick={() => cancel(c.id)}>
                        Cancel
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
