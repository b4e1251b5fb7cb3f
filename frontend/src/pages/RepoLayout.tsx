import { useEffect, useRef, useState } from "react";
import { NavLink, Outlet, useOutletContext, useParams, useSearchParams } from "react-router-dom";
import { enc, get, Listing, Ref, Repository, shortRef } from "../api";
import { ErrorBox, Loading, useAsync } from "../components/common";
import { TagIcon } from "../components/Icons";

export interface RepoContext {
  repo: Repository;
  /** The ref in the URL (`?ref=`), or the default branch. */
  reference: string;
  setReference: (r: string) => void;
}

export const useRepo = () => useOutletContext<RepoContext>();

/** Picks a branch, a tag or a commit id; branches and tags load 100 at a time, filtered by prefix. */
export function RefSelector({ repo, value, onChange, label = "Ref", branchesOnly = false }: { repo: string; value: string; onChange: (r: string) => void; label?: string; branchesOnly?: boolean }) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState("");
  const box = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  // Escape or a click elsewhere closes it; focus goes back to the toggle.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        toggle.current?.focus();
      }
    };
    const onClick = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false);
    window.addEventListener("keydown", onKey);
    window.addEventListener("mousedown", onClick);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("mousedown", onClick);
    };
  }, [open]);
  const refs = useAsync(
    async () =>
      open
        ? Promise.all([
            get<Listing<Ref>>(`/repositories/${enc(repo)}/branches`, { prefix: filter, amount: 100 }),
            branchesOnly
              ? Promise.resolve<Listing<Ref>>({ results: [], pagination: { has_more: false, next_offset: "", results: 0, max_per_page: 1000 } })
              : get<Listing<Ref>>(`/repositories/${enc(repo)}/tags`, { prefix: filter, amount: 100 }),
          ])
        : null,
    [open, filter, repo, branchesOnly],
  );
  const pick = (r: string) => {
    onChange(r);
    setOpen(false);
    setFilter("");
    toggle.current?.focus();
  };
  return (
    <div className="refsel" ref={box}>
      <button type="button" ref={toggle} aria-expanded={open} onClick={() => setOpen(!open)} aria-label={`${label}: ${value}`}>
        {label}: <strong title={value}>{shortRef(value)}</strong> ▾
      </button>
      {open && (
        <div className="dropdown" role="group" aria-label={`Choose ${label.toLowerCase()}`}>
          <input
            autoFocus
            placeholder={branchesOnly ? "Filter branches" : "Filter, or a commit id + Enter"}
            aria-label="Filter refs"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && filter && !branchesOnly && pick(filter)}
          />
          {refs.loading && <Loading />}
          <ErrorBox error={refs.error} />
          {refs.data && (
            <>
              <div className="group">Branches</div>
              {refs.data[0].results.map((b) => (
                <button type="button" aria-current={b.id === value} key={`b-${b.id}`} onClick={() => pick(b.id)}>
                  {b.id}
                </button>
              ))}
              {refs.data[1].results.length > 0 && <div className="group">Tags</div>}
              {refs.data[1].results.map((t) => (
                <button type="button" aria-current={t.id === value} key={`t-${t.id}`} onClick={() => pick(t.id)}>
                  <TagIcon /> {t.id}
                </button>
              ))}
              {(refs.data[0].pagination.has_more || refs.data[1].pagination.has_more) && <div className="muted small">More refs: type to filter.</div>}
            </>
          )}
        </div>
      )}
    </div>
  );
}

export function RepoLayout() {
  const { repo: repoId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const repo = useAsync(() => get<Repository>(`/repositories/${enc(repoId)}`), [repoId]);
  if (repo.error) return <ErrorBox error={repo.error} />;
  if (!repo.data) return <Loading />;
  const reference = params.get("ref") || repo.data.default_branch;
  const setReference = (r: string) => {
    const next = new URLSearchParams(params);
    next.set("ref", r);
    next.delete("path");
    next.delete("after");
    setParams(next);
  };
  const q = `?ref=${enc(reference)}`;
  const ctx: RepoContext = { repo: repo.data, reference, setReference };
  return (
    <section>
      <div className="bar">
        <h1 className="repo-title">{repo.data.id}</h1>
        {repo.data.read_only && <span className="badge">read-only</span>}
      </div>
      <nav className="tabs" aria-label="Repository">
        <NavLink to={`objects${q}`}>Objects</NavLink>
        <NavLink to={`changes${q}`}>Uncommitted changes</NavLink>
        <NavLink to={`commits${q}`} end={false}>
          Commits
        </NavLink>
        <NavLink to={`branches`}>Branches</NavLink>
        <NavLink to={`tags`}>Tags</NavLink>
        <NavLink to={`compare${q}`}>Compare</NavLink>
        <NavLink to={`actions`}>Actions</NavLink>
        <NavLink to={`gc`}>Garbage collection</NavLink>
      </nav>
      <Outlet context={ctx} />
    </section>
  );
}
