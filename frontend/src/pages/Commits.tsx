import { Link, useParams } from "react-router-dom";
import { useState } from "react";
import { Commit, Diff, enc, formatDate, get, Listing, post } from "../api";
import { Empty, ErrorBox, Loading, Pager, useAction, useAsync, usePager } from "../components/common";
import { DiffTree } from "../components/DiffTree";
import { RefSelector, useRepo } from "./RepoLayout";

const PAGE = 25;

export function CommitsPage() {
  const { repo, reference, setReference } = useRepo();
  const pager = usePager(reference);
  const log = useAsync(() => get<Listing<Commit>>(`/repositories/${enc(repo.id)}/refs/${enc(reference)}/commits`, { after: pager.after, amount: PAGE }), [repo.id, reference, pager.after]);
  return (
    <div>
      <div className="bar">
        <RefSelector
          repo={repo.id}
          value={reference}
          onChange={setReference}
        />
      </div>
      <ErrorBox error={log.error} />
      {log.loading && !log.data ? (
        <Loading />
      ) : log.data?.results.length === 0 ? (
        <Empty>No commits.</Empty>
      ) : (
        <ul className="cards" aria-label="Commits">
          {log.data?.results.map((c) => (
            <li key={c.id} className="card row">
              <div>
                <Link to={`${enc(c.id)}?ref=${enc(reference)}`} className="title">
                  {c.message || "(no message)"}
                </Link>
                <div className="muted">
                  {c.committer} committed {formatDate(c.creation_date)}
                </div>
              </div>
              <div className="row-actions">
                <code title={c.id}>{c.id.slice(0, 12)}</code>
                <Link className="button small" to={`../objects?ref=${enc(c.id)}`}>
                  Browse
                </Link>
              </div>
            </li>
          ))}
        </ul>
      )}
      <Pager pager={pager} hasMore={log.data?.pagination.has_more} nextOffset={log.data?.pagination.next_offset} />
    </div>
  );
}

/** Reverts the commit on the branch it was reached from. */
function RevertButton({ repo, branch, commit }: { repo: string; branch: string; commit: Commit }) {
  const isBranch = useAsync(() => get(`/repositories/${enc(repo)}/branches/${enc(branch)}`).then(() => true, () => false), [repo, branch]);
  const action = useAction();
  const [done, setDone] = useState(false);
  if (!isBranch.data) return null;
  return (
    <>
      <button
        type="button"
        disabled={action.busy || done}
        onClick={() =>
          window.confirm(`Revert ${commit.id.slice(0, 12)} on ${branch} with a new commit?`) &&
          action.run(async () => {
            // A merge commit is reverted against its first parent.
            await post(`/repositories/${enc(repo)}/branches/${enc(branch)}/revert`, { ref: commit.id, parent_number: commit.parents.length > 1 ? 1 : 0 });
            setDone(true);
          })
        }
      >
        Revert on {branch}
      </button>
      {done && (
        <span className="notice" role="status">
          Reverted on {branch}.
        </span>
      )}
      <ErrorBox error={action.error} />
    </>
  );
}

export function CommitPage() {
  const { repo, reference } = useRepo();
  const { commitId = "" } = useParams();
  const commit = useAsync(() => get<Commit>(`/repositories/${enc(repo.id)}/commits/${enc(commitId)}`), [repo.id, commitId]);
  if (commit.error) return <ErrorBox error={commit.error} />;
  if (!commit.data) return <Loading />;
  const c = commit.data;
  const parent = c.parents[0];
  const fetch = (prefix: string, after: string) =>
    get<Listing<Diff>>(`/repositories/${enc(repo.id)}/refs/${enc(parent)}/diff/${enc(c.id)}`, { prefix, after, amount: 100, delimiter: "/", type: "two_dot" });
  return (
    <div>
      <div className="card">
        <h2>{c.message || "(no message)"}</h2>
        <dl className="props">
          <dt>ID</dt>
          <dd className="mono">{c.id}</dd>
          <dt>Committer</dt>
          <dd>{c.committer}</dd>
          <dt>Date</dt>
          <dd>{formatDate(c.creation_date)}</dd>
          <dt>Parents</dt>
          <dd>
            {c.parents.length === 0
              ? "none"
              : c.parents.map((p) => (
                  <Link key={p} className="mono parent" to={`../commits/${enc(p)}`}>
                    {p.slice(0, 12)}
                  </Link>
                ))}
          </dd>
          {Object.entries(c.metadata ?? {}).map(([k, v]) => (
            <div key={k} className="contents">
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
        <div className="row-actions wrap">
          <Link className="button" to={`../objects?ref=${enc(c.id)}`}>
            Browse objects at this commit
          </Link>
          {c.parents.length > 0 && <RevertButton repo={repo.id} branch={reference} commit={c} />}
        </div>
      </div>
      <h3>Changes{parent ? ` against ${parent.slice(0, 12)}` : ""}</h3>
      {parent ? <DiffTree key={c.id} label="Commit changes" fetch={fetch} /> : <Empty>The first commit has no parent.</Empty>}
    </div>
  );
}
