import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ApiError, Diff, enc, get, Listing, post, shortRef } from "../api";

/** How many conflicting paths the page lists before summing up the rest. */
const SHOWN = 100;

/** The conflicting paths of a 409 answer (its `conflicts` field), if it is a conflict. */
export function conflictPaths(e: unknown): string[] | null {
  if (!(e instanceof ApiError) || e.status !== 409) return null;
  const paths = (e.body as { conflicts?: unknown } | null)?.conflicts;
  return Array.isArray(paths) ? paths.filter((p): p is string => typeof p === "string") : null;
}

function ConflictList({ paths }: { paths: string[] }) {
  const more = paths.length - SHOWN;
  return (
    <ul className="conflicts">
      {paths.slice(0, SHOWN).map((p) => (
        <li key={p} className="mono">
          {p}
        </li>
      ))}
      {more > 0 && <li>… and {more} more</li>}
    </ul>
  );
}
import { ErrorBox, useAction } from "../components/common";
import { DiffTree } from "../components/DiffTree";
import { RefSelector, useRepo } from "./RepoLayout";

export function ComparePage() {
  const { repo, reference } = useRepo();
  const [params, setParams] = useSearchParams();
  const compare = params.get("compare") || reference;
  const [strategy, setStrategy] = useState("");
  const [result, setResult] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<string[] | null>(null);
  const action = useAction();
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    next.set(key, value);
    setParams(next);
    setResult(null);
    setConflicts(null);
  };
  const fetch = (prefix: string, after: string) =>
    get<Listing<Diff>>(`/repositories/${enc(repo.id)}/refs/${enc(reference)}/diff/${enc(compare)}`, { prefix, after, amount: 100, delimiter: "/", type: "three_dot" });
  const merge = () =>
    action.run(async () => {
      setConflicts(null);
      try {
        const r = await post<{ reference: string }>(`/repositories/${enc(repo.id)}/refs/${enc(compare)}/merge/${enc(reference)}`, strategy ? { strategy } : {});
        setResult(r.reference);
      } catch (e) {
        const paths = conflictPaths(e);
        if (paths) setConflicts(paths);
        else throw e;
      }
    });
  return (
    <div>
      <div className="bar">
        <RefSelector repo={repo.id} value={reference} onChange={(r) => set("ref", r)} label="Base" />
        <span aria-hidden="true">←</span>
        <RefSelector repo={repo.id} value={compare} onChange={(r) => set("compare", r)} label="Compare" />
        <span className="grow" />
        <label className="inline">
          Strategy
          <select value={strategy} onChange={(e) => setStrategy(e.target.value)} aria-label="Merge strategy">
            <option value="">default (fail on conflict)</option>
            <option value="source-wins">source wins</option>
            <option value="dest-wins">destination wins</option>
          </select>
        </label>
        <button type="button" className="primary" disabled={compare === reference || action.busy} onClick={merge}>
          Merge {shortRef(compare)} into {shortRef(reference)}
        </button>
      </div>
      <ErrorBox error={action.error} />
      {result && (
        <div className="notice" role="status">
          Merged: <Link to={`../commits/${enc(result)}`}>{result.slice(0, 12)}</Link>
        </div>
      )}
      {conflicts && (
        <div className="error" role="alert">
          <strong>Merge conflicts.</strong> Both sides changed these paths differently; pick a strategy or resolve them on a branch:
          <ConflictList paths={conflicts} />
        </div>
      )}
      {compare === reference ? (
        <p className="empty">Pick two different refs to compare.</p>
      ) : (
        <DiffTree key={`${reference}..${compare}-${result}`} label="Differences" fetch={fetch} />
      )}
    </div>
  );
}
