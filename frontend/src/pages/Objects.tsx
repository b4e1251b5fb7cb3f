import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { del, enc, formatDate, formatSize, get, Listing, objectUrl, ObjectStats, shortRef, upload } from "../api";
import { Empty, ErrorBox, Loading, Modal, Pager, useAction, useAsync, usePager } from "../components/common";
import { Preview } from "../components/Preview";
import { ImportDialog } from "../components/ImportDialog";
import { FileIcon, FolderIcon } from "../components/Icons";
import { RefSelector, useRepo } from "./RepoLayout";

const PAGE = 100;

function Breadcrumbs({ path, go }: { path: string; go: (p: string) => void }) {
  const parts = path.split("/").filter(Boolean);
  return (
    <nav className="crumbs" aria-label="Path">
      <button type="button" className="plain" onClick={() => go("")}>
        root
      </button>
      {parts.map((p, i) => (
        <span key={i}>
          {" / "}
          <button type="button" className="plain" onClick={() => go(parts.slice(0, i + 1).join("/") + "/")}>
            {p}
          </button>
        </span>
      ))}
    </nav>
  );
}

interface Progress {
  name: string;
  fraction: number;
  error?: string;
}

function UploadDialog({ repo, branch, prefix, onClose, onDone }: { repo: string; branch: string; prefix: string; onClose: () => void; onDone: () => void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [dest, setDest] = useState(prefix);
  const [progress, setProgress] = useState<Progress[]>([]);
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    const base = dest && !dest.endsWith("/") ? `${dest}/` : dest;
    // A retry uploads only what has not arrived yet.
    const done = new Set(progress.filter((p) => p.fraction >= 1 && !p.error).map((p) => p.name));
    setProgress(files.map((f) => ({ name: base + f.name, fraction: done.has(base + f.name) ? 1 : 0 })));
    let failed = false;
    // Two at a time: steady progress without flooding the server.
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        if (done.has(base + files[i].name)) continue;
        try {
          await upload(repo, branch, base + files[i].name, files[i], (fraction) => setProgress((p) => p.map((x, j) => (j === i ? { ...x, fraction } : x))));
        } catch (e) {
          failed = true;
          setProgress((p) => p.map((x, j) => (j === i ? { ...x, error: (e as Error).message } : x)));
        }
      }
    };
    await Promise.all([worker(), worker()]);
    setBusy(false);
    if (!failed) onDone();
  };
  return (
    <Modal title="Upload objects" onClose={() => !busy && onClose()}>
      <label>
        Files
        <input type="file" multiple name="files" onChange={(e) => setFiles(Array.from(e.target.files ?? []))} disabled={busy} />
      </label>
      <label>
        Destination prefix
        <input name="prefix" value={dest} onChange={(e) => setDest(e.target.value)} disabled={busy} placeholder="e.g. data/2026/" />
      </label>
      {progress.length > 0 && (
        <ul className="progress-list" aria-label="Upload progress">
          {progress.map((p) => (
            <li key={p.name}>
              <span className="mono">{p.name}</span>
              <progress max={1} value={p.fraction} aria-label={`${p.name} progress`} />
              {p.error ? <span className="error-text">{p.error}</span> : p.fraction >= 1 ? <span className="ok-text">done</span> : null}
            </li>
          ))}
        </ul>
      )}
      <div className="actions">
        <button type="button" onClick={onClose} disabled={busy}>
          Close
        </button>
        <button type="button" className="primary" disabled={busy || files.length === 0} onClick={start}>
          Upload {files.length || ""} file{files.length === 1 ? "" : "s"} to {branch}
        </button>
      </div>
    </Modal>
  );
}

function Details({ repo, reference, object, isBranch, onDeleted }: { repo: string; reference: string; object: ObjectStats; isBranch: boolean; onDeleted: () => void }) {
  const action = useAction();
  const [confirm, setConfirm] = useState(false);
  const name = object.path.split("/").pop() ?? object.path;
  const ref = useRef<HTMLElement>(null);
  // On a narrow screen the details are below the list: bring them into view.
  useEffect(() => {
    // (A block body: scrollIntoView may return a promise, which React would
    // take for a cleanup function.)
    ref.current?.scrollIntoView({ block: "nearest" });
  }, [object.path]);
  return (
    <aside className="details card" aria-label="Object details" ref={ref}>
      <div className="bar">
        <h2 className="mono">{name}</h2>
        <a className="button" href={objectUrl(repo, reference, object.path)} download={name}>
          Download
        </a>
        {isBranch && (
          <button type="button" className="danger" onClick={() => setConfirm(true)}>
            Delete
          </button>
        )}
      </div>
      <dl className="props">
        <dt>Path</dt>
        <dd className="mono">{object.path}</dd>
        <dt>Physical address</dt>
        <dd className="mono">{object.physical_address}</dd>
        <dt>Checksum</dt>
        <dd className="mono">{object.checksum}</dd>
        <dt>Size</dt>
        <dd>
          {formatSize(object.size_bytes)} ({object.size_bytes} bytes)
        </dd>
        <dt>Modified</dt>
        <dd>{formatDate(object.mtime)}</dd>
        {object.content_type && (
          <>
            <dt>Content type</dt>
            <dd>{object.content_type}</dd>
          </>
        )}
        {Object.entries(object.metadata ?? {}).map(([k, v]) => (
          <div key={k} className="contents">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <h3>Preview</h3>
      <Preview repo={repo} reference={reference} object={object} />
      {confirm && (
        <Modal title="Delete object" onClose={() => setConfirm(false)}>
          <p>
            Delete <span className="mono">{object.path}</span> from branch <strong>{reference}</strong>? The change stays uncommitted until you commit.
          </p>
          <ErrorBox error={action.error} />
          <div className="actions">
            <button type="button" onClick={() => setConfirm(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  await del(`/repositories/${enc(repo)}/branches/${enc(reference)}/objects`, { path: object.path });
                  setConfirm(false);
                  onDeleted();
                })
              }
            >
              Delete
            </button>
          </div>
        </Modal>
      )}
    </aside>
  );
}

export function ObjectsPage() {
  const { repo, reference, setReference } = useRepo();
  const [params, setParams] = useSearchParams();
  const prefix = params.get("path") ?? "";
  const scope = `${repo.id}|${reference}|${prefix}`;
  const pager = usePager(scope);
  // The selection belongs to the listing it was made in.
  const [selection, setSelection] = useState<{ scope: string; object: ObjectStats } | null>(null);
  const selected = selection?.scope === scope ? selection.object : null;
  const setSelected = (object: ObjectStats | null) => setSelection(object && { scope, object });
  const [uploading, setUploading] = useState(false);
  const [importing, setImporting] = useState(false);
  const importSupport = useAsync(
    () => get<{ storage_config: { import_support: boolean } }>("/config").then((c) => c.storage_config.import_support, () => false),
    [],
  );
  const isBranch = useAsync(() => get(`/repositories/${enc(repo.id)}/branches/${enc(reference)}`).then(() => true, () => false), [repo.id, reference]);
  const list = useAsync(
    () => get<Listing<ObjectStats>>(`/repositories/${enc(repo.id)}/refs/${enc(reference)}/objects/ls`, { prefix, delimiter: "/", after: pager.after, amount: PAGE }),
    [repo.id, reference, prefix, pager.after],
  );
  const go = (p: string) => {
    const next = new URLSearchParams(params);
    if (p) next.set("path", p);
    else next.delete("path");
    setParams(next);
  };
  return (
    <div>
      <div className="bar">
        <RefSelector repo={repo.id} value={reference} onChange={setReference} />
        <Breadcrumbs path={prefix} go={go} />
        <span className="grow" />
        {isBranch.data && importSupport.data && (
          <button type="button" onClick={() => setImporting(true)}>
            Import
          </button>
        )}
        {isBranch.data && (
          <button type="button" className="primary" onClick={() => setUploading(true)}>
            Upload
          </button>
        )}
        {isBranch.data === false && <span className="muted small">Read-only view of {shortRef(reference)}: pick a branch to change it.</span>}
      </div>
      <div className={selected ? "split" : ""}>
        <div>
          <ErrorBox error={list.error} />
          {list.loading && !list.data ? (
            <Loading />
          ) : list.data && list.data.results.length === 0 ? (
            <Empty>
              {prefix ? "Nothing under this prefix." : "No objects yet."} {isBranch.data && "Upload some files to start."}
            </Empty>
          ) : (
            <table className="listing" aria-label="Objects">
              <thead>
                <tr>
                  <th>Name</th>
                  <th className="num">Size</th>
                  <th className="hide-narrow">Modified</th>
                </tr>
              </thead>
              <tbody>
                {list.data?.results.map((o) => {
                  const name = o.path.slice(prefix.length);
                  return o.path_type === "common_prefix" ? (
                    <tr key={o.path}>
                      <td>
                        <button type="button" className="plain link" onClick={() => go(o.path)}>
                          <FolderIcon /> {name}
                        </button>
                      </td>
                      <td />
                      <td className="hide-narrow" />
                    </tr>
                  ) : (
                    <tr key={o.path} className={selected?.path === o.path ? "selected" : ""}>
                      <td>
                        <button type="button" className="plain link" onClick={() => setSelected(o)} aria-label={`Open ${name}`}>
                          <FileIcon /> {name}
                        </button>
                      </td>
                      <td className="num">{formatSize(o.size_bytes)}</td>
                      <td className="hide-narrow">{formatDate(o.mtime)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <Pager pager={pager} hasMore={list.data?.pagination.has_more} nextOffset={list.data?.pagination.next_offset} />
        </div>
        {selected && (
          <Details
            repo={repo.id}
            reference={reference}
            object={selected}
            isBranch={!!isBranch.data}
            onDeleted={() => {
              setSelected(null);
              list.reload();
            }}
          />
        )}
      </div>
      {uploading && (
        <UploadDialog
          repo={repo.id}
          branch={reference}
          prefix={prefix}
          onClose={() => {
            setUploading(false);
            list.reload();
          }}
          onDone={() => {
            setUploading(false);
            list.reload();
          }}
        />
      )}
      {importing && (
        <ImportDialog
          repo={repo.id}
          branch={reference}
          prefix={prefix}
          onClose={() => {
            setImporting(false);
            list.reload();
          }}
          onDone={list.reload}
        />
      )}
      {isBranch.data && (
        <p className="muted small">
          <Link to={`../changes?ref=${enc(reference)}`}>Uncommitted changes on {reference}</Link>
        </p>
      )}
    </div>
  );
}
