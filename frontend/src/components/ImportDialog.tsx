import { FormEvent, useEffect, useState } from "react";
import { enc, get, post } from "../api";
import { FormEnd, Modal, useAction } from "./common";

interface ImportStatus {
  completed: boolean;
  ingested_objects: number;
  commit?: { id: string };
  error?: { message: string };
}

/**
 * Zero-copy import into a branch: a source prefix (or one object) of the
 * object store becomes one commit, with progress while the job runs.
 */
export function ImportDialog({ repo, branch, prefix, onClose, onDone }: { repo: string; branch: string; prefix: string; onClose: () => void; onDone: () => void }) {
  const [source, setSource] = useState("");
  const [destination, setDestination] = useState(prefix);
  const [message, setMessage] = useState("");
  const [id, setId] = useState<string | null>(null);
  const [status, setStatus] = useState<ImportStatus | null>(null);
  const action = useAction();
  const base = `/repositories/${enc(repo)}/branches/${enc(branch)}/import`;
  const isPrefix = source.endsWith("/");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.run(async () => {
      const started = await post<{ id: string }>(base, {
        paths: [{ type: isPrefix ? "common_prefix" : "object", path: source, destination }],
        commit: { message: message || `Import from ${source}` },
      });
      setId(started.id);
    });
  };
  // Poll until the import ends.
  useEffect(() => {
    if (!id || status?.completed || status?.error) return;
    const t = window.setTimeout(async () => {
      try {
        const s = await get<ImportStatus>(base, { id });
        setStatus(s);
        if (s.completed) onDone();
      } catch (e) {
        action.setError(e as Error);
      }
    }, 500);
    return () => window.clearTimeout(t);
  }, [id, status, base, onDone, action]);
  const running = id !== null && !status?.completed && !status?.error;
  return (
    <Modal title={`Import into ${branch}`} onClose={() => !running && onClose()}>
      {id === null ? (
        <form onSubmit={submit}>
          <label>
            Source (a prefix ending in /, or one object)
            <input name="source" value={source} onChange={(e) => setSource(e.target.value)} required placeholder="s3://bucket/path/" />
          </label>
          <label>
            Destination on {branch}
            <input name="destination" value={destination} onChange={(e) => setDestination(e.target.value)} placeholder={isPrefix ? "path/" : "path/file"} />
          </label>
          <label>
            Commit message
            <input name="message" value={message} onChange={(e) => setMessage(e.target.value)} placeholder={source ? `Import from ${source}` : ""} />
          </label>
          <p className="muted small">Nothing is copied: the branch's objects under the destination are replaced by the source's, in one commit.</p>
          <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Import" />
        </form>
      ) : (
        <div role="status" aria-live="polite">
          {status?.error ? (
            <div className="error" role="alert">
              Import failed: {status.error.message}
            </div>
          ) : status?.completed ? (
            <p>
              Imported {status.ingested_objects.toLocaleString()} objects in commit <span className="mono">{status.commit?.id.slice(0, 12)}</span>.
            </p>
          ) : (
            <p>Importing… {(status?.ingested_objects ?? 0).toLocaleString()} objects so far.</p>
          )}
          <div className="actions">
            <button type="button" onClick={onClose} disabled={running}>
              Close
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
