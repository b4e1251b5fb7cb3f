import DOMPurify from "dompurify";
import { marked } from "marked";
import { useEffect, useState } from "react";
import { objectUrl, ObjectStats } from "../api";
import { ErrorBox, Loading } from "./common";

/** At most this much of an object is fetched for a preview. */
const PREVIEW_BYTES = 1 << 20;
const MAX_ROWS = 500;
/** Images larger than this are not previewed (they would be fetched whole). */
const MAX_IMAGE_BYTES = 20 << 20;

/**
 * Markdown becomes HTML shown inside the app: besides scripts, no styles
 * (they would restyle the page) and no forms (a click must not post to the
 * API as the viewer).
 */
const SANITIZE = {
  FORBID_TAGS: ["style", "form", "input", "button", "select", "textarea", "iframe", "object", "embed"],
  FORBID_ATTR: ["style", "action", "formaction"],
};

type Kind = "image" | "markdown" | "json" | "csv" | "tsv" | "text" | "none";

const TEXT_EXT = /\.(txt|log|md|markdown|json|csv|tsv|ya?ml|toml|ini|cfg|conf|xml|html?|css|js|mjs|ts|tsx|jsx|py|rs|go|java|c|h|cpp|hpp|sh|sql|r|scala|kt|rb|php|pl|lua|dockerfile|makefile|gitignore)$/i;

export function kindOf(o: ObjectStats): Kind {
  const p = o.path.toLowerCase();
  const ct = (o.content_type ?? "").toLowerCase();
  if (/\.(png|jpe?g|gif|webp|bmp|ico)$/.test(p) || (ct.startsWith("image/") && !ct.includes("svg"))) return "image";
  if (/\.(md|markdown)$/.test(p)) return "markdown";
  if (p.endsWith(".json") || ct === "application/json") return "json";
  if (p.endsWith(".csv") || ct === "text/csv") return "csv";
  if (p.endsWith(".tsv")) return "tsv";
  if (TEXT_EXT.test(p) || ct.startsWith("text/")) return "text";
  return "none";
}

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
export function parseDelimited(text: string, sep: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === sep) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if ((field !== "" || row.length > 0) && rows.length < maxRows) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function Table({ rows, truncated }: { rows: string[][]; truncated: boolean }) {
  if (rows.length === 0) return <p className="muted">Empty file.</p>;
  const [head, ...body] = rows;
  return (
    <div className="table-wrap">
      <table className="data" aria-label="Table preview">
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {body.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {truncated && <p className="muted small">Showing the first {rows.length - 1} rows.</p>}
    </div>
  );
}

export function Preview({ repo, reference, object }: { repo: string; reference: string; object: ObjectStats }) {
  const kind = kindOf(object);
  const src = objectUrl(repo, reference, object.path);
  const [text, setText] = useState<{ body: string; partial: boolean } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    setText(null);
    setError(null);
    if (kind === "image" || kind === "none") return;
    const ctl = new AbortController();
    // An empty object has no byte 0 to ask for: no range then.
    const headers: Record<string, string> = object.size_bytes === 0 ? {} : { Range: `bytes=0-${PREVIEW_BYTES - 1}` };
    fetch(src, { headers, signal: ctl.signal, credentials: "same-origin" })
      .then(async (r) => {
        if (r.status === 416) return setText({ body: "", partial: false });
        if (!r.ok && r.status !== 206) throw new Error(`cannot read the object (${r.status})`);
        setText({ body: await r.text(), partial: r.status === 206 && (object.size_bytes ?? 0) > PREVIEW_BYTES });
      })
      .catch((e: Error) => e.name !== "AbortError" && setError(e));
    return () => ctl.abort();
  }, [src, kind, object.size_bytes]);
  if (kind === "none") return <p className="muted">No preview for this kind of file; download it instead.</p>;
  if (kind === "image") {
    if ((object.size_bytes ?? 0) > MAX_IMAGE_BYTES) return <p className="muted">This image is too large to preview; download it instead.</p>;
    return <img className="preview-image" src={src} alt={object.path} />;
  }
  if (error) return <ErrorBox error={error} />;
  if (!text) return <Loading what="Loading preview" />;
  const note = text.partial ? <p className="muted small">Preview of the first 1 MiB.</p> : null;
  switch (kind) {
    case "markdown":
      return (
        <>
          {note}
          <div className="markdown" dangerouslySetInnerHTML={{ __html: DOMPurify.sanitize(marked.parse(text.body, { async: false }) as string, SANITIZE) }} />
        </>
      );
    case "json": {
      let pretty = text.body;
      try {
        pretty = JSON.stringify(JSON.parse(text.body), null, 2);
      } catch {
        /* partial or invalid: shown as is */
      }
      return (
        <>
          {note}
          <pre className="code">{pretty}</pre>
        </>
      );
    }
    case "csv":
    case "tsv": {
      const rows = parseDelimited(text.body, kind === "csv" ? "," : "\t", MAX_ROWS + 1);
      return (
        <>
          {note}
          <Table rows={rows} truncated={rows.length > MAX_ROWS || text.partial} />
        </>
      );
    }
    default:
      return (
        <>
          {note}
          <pre className="code">{text.body}</pre>
        </>
      );
  }
}
