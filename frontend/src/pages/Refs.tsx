import { FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { del, enc, get, Listing, post, Ref } from "../api";
import { Empty, ErrorBox, Loading, Modal, Pager, useAction, useAsync, usePager, FormEnd } from "../components/common";
import { useRepo } from "./RepoLayout";

const PAGE = 50;

function CreateRef({ kind, repo, defaultSource, onClose, onDone }: { kind: "branch" | "tag"; repo: string; defaultSource: string; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState("");
  const [source, setSource] = useState(defaultSource);
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.run(async () => {
      if (kind === "branch") await post(`/repositories/${enc(repo)}/branches`, { name, source });
      else await post(`/repositories/${enc(repo)}/tags`, { id: name, ref: source });
      onDone();
    });
  };
  return (
    <Modal title={`Create ${kind}`} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          {kind === "branch" ? "Branch name" : "Tag name"}
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          From (branch, tag or commit)
          <input name="source" value={source} onChange={(e) => setSource(e.target.value)} required />
        </label>
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit={`Create ${kind}`} />
      </form>
    </Modal>
  );
}

function Revert({ repo, branch, onClose, onDone }: { repo: string; branch: string; onClose: () => void; onDone: () => void }) {
  const [ref, setRef] = useState("");
  const [parent, setParent] = useState("");
  const action = useAction();
  return (
    <Modal title={`Revert a commit on ${branch}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          action.run(async () => {
            await post(`/repositories/${enc(repo)}/branches/${enc(branch)}/revert`, { ref, parent_number: parent ? Number(parent) : 0 });
            onDone();
          });
        }}
      >
        <label>
          Commit to revert
          <input name="ref" value={ref} onChange={(e) => setRef(e.target.value)} required placeholder="commit id or ref" />
        </label>
        <label>
          Parent number (merge commits only)
          <input name="parent_number" type="number" min={1} value={parent} onChange={(e) => setParent(e.target.value)} />
        </label>
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Revert" />
      </form>
    </Modal>
  );
}

function RefList({ kind }: { kind: "branch" | "tag" }) {
  const { repo } = useRepo();
  const pager = usePager();
  const plural = kind === "branch" ? "branches" : "tags";
  const list = useAsync(() => get<Listing<Ref>>(`/repositories/${enc(repo.id)}/${plural}`, { after: pager.after, amount: PAGE }), [repo.id, pager.after]);
  const [creating, setCreating] = useState(false);
  const [reverting, setReverting] = useState<string | null>(null);
  const action = useAction();
  const remove = (id: string) =>
    window.confirm(`Delete ${kind} ${id}?`) &&
    action.run(async () => {
      await del(`/repositories/${enc(repo.id)}/${plural}/${enc(id)}`);
      list.reload();
    });
  return (
    <div>
      <div className="bar">
        <h2>{kind === "branch" ? "Branches" : "Tags"}</h2>
        <span className="grow" />
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create {kind}
        </button>
      </div>
      <ErrorBox error={list.error || action.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data?.results.length === 0 ? (
        <Empty>No {plural}.</Empty>
      ) : (
        <table className="listing" aria-label={plural}>
          <tbody>
            {list.data?.results.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`../objects?ref=${enc(r.id)}`}>{r.id}</Link>
                  {kind === "branch" && r.id === repo.default_branch && <span className="badge">default</span>}
                </td>
                <td className="hide-narrow">
                  <Link className="mono" to={`../commits/${enc(r.commit_id)}`}>
                    {r.commit_id.slice(0, 12)}
                  </Link>
                </td>
                <td className="num">
                  {kind === "branch" && (
                    <>
                      <Link className="button small" to={`../compare?ref=${enc(repo.default_branch)}&compare=${enc(r.id)}`}>
                        Compare
                      </Link>
                      <button type="button" className="small" onClick={() => setReverting(r.id)}>
                        Revert…
                      </button>
                    </>
                  )}
                  {!(kind === "branch" && r.id === repo.default_branch) && (
                    <button type="button" className="small danger" aria-label={`Delete ${kind} ${r.id}`} onClick={() => remove(r.id)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} hasMore={list.data?.pagination.has_more} nextOffset={list.data?.pagination.next_offset} />
      {creating && (
        <CreateRef
          kind={kind}
          repo={repo.id}
          defaultSource={repo.default_branch}
          onClose={() => setCreating(false)}
          onDone={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
      {reverting && (
        <Revert
          repo={repo.id}
          branch={reverting}
          onClose={() => setReverting(null)}
          onDone={() => {
            setReverting(null);
            list.reload();
          }}
        />
      )}
    </div>
  );
}

export const BranchesPage = () => <RefList kind="branch" />;
export const TagsPage = () => <RefList kind="tag" />;
