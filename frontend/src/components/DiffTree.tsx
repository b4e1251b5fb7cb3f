import { ReactNode, useState } from "react";
import { Diff, formatSize, Listing } from "../api";
import { ErrorBox, Loading, useAsync } from "./common";

export type DiffFetch = (prefix: string, after: string) => Promise<Listing<Diff>>;

const SIGN: Record<Diff["type"], string> = { added: "+", removed: "−", changed: "~", conflict: "!", prefix_changed: "~" };

/** One level of a diff, grouped by "/": prefixes expand on demand, each level pages by 100. */
function Level({ fetch, prefix, depth, action }: { fetch: DiffFetch; prefix: string; depth: number; action?: (d: Diff) => ReactNode }) {
  const [pages, setPages] = useState<string[]>([""]);
  return (
    <>
      {pages.map((after, i) => (
        <Page key={after} fetch={fetch} prefix={prefix} after={after} depth={depth} action={action} last={i === pages.length - 1} more={(next) => setPages((p) => [...p, next])} />
      ))}
    </>
  );
}

function Page({ fetch, prefix, after, depth, action, last, more }: { fetch: DiffFetch; prefix: string; after: string; depth: number; action?: (d: Diff) => ReactNode; last: boolean; more: (next: string) => void }) {
  const list = useAsync(() => fetch(prefix, after), [prefix, after]);
  const [open, setOpen] = useState<Record<string, boolean>>({});
  if (list.error) return <li><ErrorBox error={list.error} /></li>;
  if (!list.data) return <li><Loading /></li>;
  if (depth === 0 && after === "" && list.data.results.length === 0) return <li className="empty">No differences.</li>;
  return (
    <>
      {list.data.results.map((d) => {
        const name = d.path.slice(prefix.length);
        const isDir = d.path_type === "common_prefix";
        return (
          <li key={d.path} className={`diff ${d.type}`}>
            <div className="diff-row" style={{ paddingLeft: `${depth * 1.2}rem` }}>
              <span className="sign" aria-label={d.type}>
                {SIGN[d.type]}
              </span>
              {isDir ? (
                <button type="button" className="plain link" aria-expanded={!!open[d.path]} onClick={() => setOpen((o) => ({ ...o, [d.path]: !o[d.path] }))}>
                  {open[d.path] ? "▾" : "▸"} {name}
                </button>
              ) : (
                <span className="mono">{name}</span>
              )}
              <span className="muted small">{d.type === "prefix_changed" ? "changed" : d.type}</span>
              {!isDir && d.size_bytes !== undefined && <span className="muted small">{formatSize(d.size_bytes)}</span>}
              <span className="grow" />
              {action?.(d)}
            </div>
            {isDir && open[d.path] && (
              <ul className="tree">
                <Level fetch={fetch} prefix={d.path} depth={depth + 1} action={action} />
              </ul>
            )}
          </li>
        );
      })}
      {last && list.data.pagination.has_more && (
        <li>
          <button type="button" className="small" onClick={() => more(list.data!.pagination.next_offset)}>
            Load more
          </button>
        </li>
      )}
    </>
  );
}

export function DiffTree({ fetch, action, label }: { fetch: DiffFetch; action?: (d: Diff) => ReactNode; label: string }) {
  return (
    <ul className="tree" aria-label={label}>
      <Level fetch={fetch} prefix="" depth={0} action={action} />
    </ul>
  );
}
