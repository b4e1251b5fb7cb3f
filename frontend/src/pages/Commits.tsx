import { Link, useParams } from "react-router-dom";
import { Commit, Diff, enc, formatDate, get, Listing } from "../api";
import { Empty, ErrorBox, Loading, Pager, useAsync, usePager } from "../components/common";
import { DiffTree } from "../components/DiffTree";
import { RefSelector, useRepo } from "./RepoLayout";

const PAGE = 25;

export function CommitsPage() {
  const { repo, reference, setReference } = useRepo();
  const pager = usePager();
  const log = useAsync(() => get<Listing<Commit>>(`/repositories/${enc(repo.id)}/refs/${enc(reference)}/commits`, { after: pager.after, amount: PAGE }), [repo.id, reference, pager.after]);
  return (
    <div>
      <div className="bar">
        <RefSelector
          repo={repo.id}
          value={reference}
          onChange={(r) => {
            pager.reset();
            setReference(r);
          }}
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

export function CommitPage() {
  const { repo } = useRepo();
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
            <span key={k} className="contents">
              <dt>{k}</dt>
              <dd>{v}</dd>
            </span>
          ))}
        </dl>
        <Link className="button" to={`../objects?ref=${enc(c.id)}`}>
          Browse objects at this commit
        </Link>
      </div>
      <h3>Changes{parent ? ` against ${parent.slice(0, 12)}` : ""}</h3>
      {parent ? <DiffTree label="Commit changes" fetch={fetch} /> : <Empty>The first commit has no parent.</Empty>}
    </div>
  );
}
