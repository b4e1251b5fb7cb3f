import { FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { Commit, Diff, enc, get, Listing, post, put } from "../api";
import { ErrorBox, Modal, useAction, useAsync, FormEnd } from "../components/common";
import { DiffTree } from "../components/DiffTree";
import { RefSelector, useRepo } from "./RepoLayout";

function CommitDialog({ repo, branch, onClose, onDone }: { repo: string; branch: string; onClose: () => void; onDone: (c: Commit) => void }) {
  const [message, setMessage] = useState("");
  const [meta, setMeta] = useState<{ k: string; v: string }[]>([]);
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const metadata = Object.fromEntries(meta.filter((m) => m.k).map((m) => [m.k, m.v]));
    action.run(async () => onDone(await post<Commit>(`/repositories/${enc(repo)}/branches/${enc(branch)}/commits`, { message, metadata })));
  };
  return (
    <Modal title={`Commit to ${branch}`} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Message
          <textarea name="message" value={message} onChange={(e) => setMessage(e.target.value)} required rows={3} />
        </label>
        <fieldset>
          <legend>Metadata</legend>
          {meta.map((m, i) => (
            <div className="kv" key={i}>
              <input aria-label="Metadata key" placeholder="key" value={m.k} onChange={(e) => setMeta(meta.map((x, j) => (j === i ? { ...x, k: e.target.value } : x)))} />
              <input aria-label="Metadata value" placeholder="value" value={m.v} onChange={(e) => setMeta(meta.map((x, j) => (j === i ? { ...x, v: e.target.value } : x)))} />
              <button type="button" className="small" aria-label="Remove metadata" onClick={() => setMeta(meta.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          ))}
          <button type="button" className="small" onClick={() => setMeta([...meta, { k: "", v: "" }])}>
            Add metadata
          </button>
        </fieldset>
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Commit changes" />
      </form>
    </Modal>
  );
}

export function ChangesPage() {
  const { repo, reference, setReference } = useRepo();
  const [tick, setTick] = useState(0);
  const [committing, setCommitting] = useState(false);
  const [done, setDone] = useState<Commit | null>(null);
  const action = useAction();
  const isBranch = useAsync(() => get(`/repositories/${enc(repo.id)}/branches/${enc(reference)}`).then(() => true, () => false), [repo.id, reference]);
  const fetch = (prefix: string, after: string) =>
    get<Listing<Diff>>(`/repositories/${enc(repo.id)}/branches/${enc(reference)}/diff`, { prefix, after, amount: 100, delimiter: "/" });
  const reset = (body: object) =>
    action.run(async () => {
      await put(`/repositories/${enc(repo.id)}/branches/${enc(reference)}`, body);
      setTick((t) => t + 1);
    });
  return (
    <div>
      <div className="bar">
        <RefSelector repo={repo.id} value={reference} onChange={setReference} label="Branch" branchesOnly />
        <span className="grow" />
        {isBranch.data && (
          <>
            <button type="button" onClick={() => window.confirm(`Discard every uncommitted change on ${reference}?`) && reset({ type: "reset" })} disabled={action.busy}>
              Reset all
            </button>
            <button type="button" className="primary" onClick={() => setCommitting(true)}>
              Commit changes
            </button>
          </>
        )}
      </div>
      {isBranch.data === false && <p className="empty">Only branches have uncommitted changes: pick a branch.</p>}
      <ErrorBox error={action.error} />
      {done && (
        <div className="notice" role="status">
          Committed <Link to={`../commits/${enc(done.id)}`}>{done.id.slice(0, 12)}</Link>: {done.message}
        </div>
      )}
      {isBranch.data && <DiffTree
        key={`${reference}-${tick}`}
        label="Uncommitted changes"
        fetch={fetch}
        action={(d) => (
          <button
            type="button"
            className="small"
            aria-label={`Reset ${d.path}`}
            onClick={() => reset(d.path_type === "common_prefix" ? { type: "common_prefix", path: d.path } : { type: "object", path: d.path })}
          >
            Reset
          </button>
        )}
      />}
      {committing && (
        <CommitDialog
          repo={repo.id}
          branch={reference}
          onClose={() => setCommitting(false)}
          onDone={(c) => {
            setCommitting(false);
            setDone(c);
            setTick((t) => t + 1);
          }}
        />
      )}
    </div>
  );
}
