import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ApiError, Diff, enc, get, Listing, post, shortRef } from "../api";

/** The server lists up to 10 conflicting paths, then how many more. */
export function parseConflicts(message: string): { paths: string[]; more: number } {
  let body = message.replace(/^conflict found:\s*/, "");
  let more = 0;
  const tail = body.match(/ and (\d+) more$/);
  if (tail) {
    more = Number(tail[1]);
    body = body.slice(0, tail.index);
  }
  return { paths: body ? body.split(", ") : [], more };
}

function ConflictList({ message }: { message: string }) {
  const { paths, more } = parseConflicts(message);
  return (
    <ul className="conflicts">
      {paths.map((p) => (
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
  const [conflicts, setConflicts] = useState<string | null>(null);
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
        if (e instanceof ApiError && e.status === 409 && e.message.startsWith("conflict found")) setConflicts(e.message);
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
          <ConflictList message={conflicts} />
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
