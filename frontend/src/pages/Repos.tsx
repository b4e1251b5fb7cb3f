import { FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { del, enc, formatDate, get, Listing, post, Repository, StorageConfig } from "../api";
import { Empty, ErrorBox, Loading, Modal, Pager, useAction, useAsync, usePager, FormEnd } from "../components/common";

const PAGE = 25;

function CreateRepo({ onClose, onCreated }: { onClose: () => void; onCreated: (r: Repository) => void }) {
  const config = useAsync(() => get<StorageConfig>("/config/storage"), []);
  const [name, setName] = useState("");
  const [ns, setNs] = useState<string | null>(null);
  const [branch, setBranch] = useState("main");
  const [sample, setSample] = useState(false);
  const action = useAction();
  const example = config.data?.blockstore_namespace_example ?? "";
  const prefix = config.data?.default_namespace_prefix ?? "";
  // Prefill from the server's namespace prefix (or, without one, its
  // example, whose last segment becomes the name).
  const repoName = name || "my-repository";
  const suggested = prefix
    ? (prefix.endsWith("/") || prefix.endsWith("://") ? prefix : `${prefix}/`) + repoName
    : example
      ? example.replace(/[^/]*$/, repoName)
      : "";
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.run(async () =>
      onCreated(
        await post<Repository>("/repositories", {
          name,
          storage_namespace: ns ?? suggested,
          default_branch: branch,
          sample_data: sample,
        }),
      ),
    );
  };
  return (
    <Modal title="Create repository" onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Repository ID
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} pattern="[a-z0-9][a-z0-9-]{2,62}" title="3-63 lower-case letters, digits and dashes" required />
        </label>
        <label>
          Storage namespace
          <input name="storage_namespace" value={ns ?? suggested} onChange={(e) => setNs(e.target.value)} required />
        </label>
        <label>
          Default branch
          <input name="default_branch" value={branch} onChange={(e) => setBranch(e.target.value)} required />
        </label>
        <label className="check">
          <input type="checkbox" name="sample_data" checked={sample} onChange={(e) => setSample(e.target.checked)} />
          Add sample data (real lakes as Parquet, a README and charts; the default branch is then protected)
        </label>
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Create repository" />
      </form>
    </Modal>
  );
}

export function DeleteRepo({ repo, onClose, onDeleted }: { repo: string; onClose: () => void; onDeleted: () => void }) {
  const [typed, setTyped] = useState("");
  const action = useAction();
  return (
    <Modal title={`Delete ${repo}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          action.run(async () => {
            await del(`/repositories/${enc(repo)}`);
            onDeleted();
          });
        }}
      >
        <p>
          This deletes the repository <strong>{repo}</strong> with all its branches, tags and commits. Type its name to confirm.
        </p>
        <label>
          Repository name
          <input name="confirm" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </label>
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Delete repository" danger disabled={typed !== repo} />
      </form>
    </Modal>
  );
}

export function ReposPage() {
  const [search, setSearch] = useState("");
  const pager = usePager(search);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const list = useAsync(() => get<Listing<Repository>>("/repositories", { after: pager.after, amount: PAGE, search }), [pager.after, search]);
  return (
    <section>
      <div className="bar">
        <h1>Repositories</h1>
        <input
          type="search"
          placeholder="Search repositories"
          aria-label="Search repositories"
          value={search}
          onChange={(e) => setSearch(e.target.value.toLowerCase())}
        />
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create repository
        </button>
      </div>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data && list.data.results.length === 0 ? (
        <Empty>{search ? "No repository matches." : "No repositories yet: create one."}</Empty>
      ) : (
        <ul className="cards">
          {list.data?.results.map((r) => (
            <li key={r.id} className="card row">
              <div>
                <Link to={`/repositories/${enc(r.id)}/objects`} className="title">
                  {r.id}
                </Link>
                <div className="muted">
                  {r.storage_namespace} · default branch {r.default_branch} · created {formatDate(r.creation_date)}
                  {r.read_only ? " · read-only" : ""}
                </div>
              </div>
              <button type="button" className="danger small" aria-label={`Delete ${r.id}`} onClick={() => setDeleting(r.id)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <Pager pager={pager} hasMore={list.data?.pagination.has_more} nextOffset={list.data?.pagination.next_offset} />
      {creating && (
        <CreateRepo
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <DeleteRepo
          repo={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            list.reload();
          }}
        />
      )}
    </section>
  );
}
