// A typed client of Tarn's REST API (lakeFS API v1). The session cookie set
// by /auth/login authenticates every call.

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown,
  ) {
    super(message);
  }
}

export interface Pagination {
  has_more: boolean;
  next_offset: string;
  results: number;
  max_per_page: number;
}
export interface Listing<T> {
  pagination: Pagination;
  results: T[];
}
export interface Repository {
  id: string;
  creation_date: number;
  default_branch: string;
  storage_namespace: string;
  read_only?: boolean;
}
export interface Ref {
  id: string;
  commit_id: string;
}
export interface Commit {
  id: string;
  parents: string[];
  committer: string;
  message: string;
  creation_date: number;
  meta_range_id: string;
  metadata?: Record<string, string>;
}
export interface ObjectStats {
  path: string;
  path_type: "object" | "common_prefix";
  physical_address: string;
  checksum: string;
  size_bytes?: number;
  mtime: number;
  metadata?: Record<string, string>;
  content_type?: string;
}
export interface Diff {
  type: "added" | "removed" | "changed" | "conflict" | "prefix_changed";
  path: string;
  path_type: "object" | "common_prefix";
  size_bytes?: number;
}
export interface User {
  id: string;
  creation_date: number;
  friendly_name?: string;
  email?: string;
}
export interface Group {
  id: string;
  name?: string;
  description?: string;
  creation_date: number;
}
export interface Statement {
  effect: "allow" | "deny";
  action: string[];
  resource: string;
}
export interface Policy {
  id: string;
  creation_date?: number;
  statement: Statement[];
}
export interface Credentials {
  access_key_id: string;
  creation_date: number;
}
export interface CredentialsWithSecret extends Credentials {
  secret_access_key: string;
}
export interface StorageConfig {
  blockstore_type: string;
  blockstore_namespace_example: string;
  default_namespace_prefix?: string | null;
  pre_sign_support: boolean;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function url(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return `${API}${path}${s ? `?${s}` : ""}`;
}

export const enc = encodeURIComponent;

async function call<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const resp = await fetch(url(path, opts.query), init);
  const text = await resp.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!resp.ok) {
    const message =
      body && typeof body === "object" && "message" in body ? String((body as { message: unknown }).message) : `${resp.status} ${resp.statusText}`;
    if (resp.status === 401 && !path.startsWith("/auth/login")) {
      window.dispatchEvent(new CustomEvent("tarn:unauthenticated"));
    }
    throw new ApiError(resp.status, message, body);
  }
  return body as T;
}

export const get = <T>(path: string, query?: Query) => call<T>("GET", path, { query });
export const post = <T>(path: string, body?: unknown, query?: Query) => call<T>("POST", path, { body, query });
export const put = <T>(path: string, body?: unknown, query?: Query) => call<T>("PUT", path, { body, query });
export const del = <T>(path: string, query?: Query) => call<T>("DELETE", path, { query });

/** The last `keep` results of a listing that pages oldest first (a repository's
 * jobs), newest first: pages are followed to the end, holding two at a time. */
export async function newest<T>(path: string, keep: number): Promise<T[]> {
  let previous: T[] = [];
  let after = "";
  for (;;) {
    const page = await get<Listing<T>>(path, { amount: 1000, after });
    if (!page.pagination.has_more) return [...previous, ...page.results].slice(-keep).reverse();
    previous = page.results;
    after = page.pagination.next_offset;
  }
}

/** Uploads one file to a branch with progress (XHR, as fetch has no upload progress). */
export function upload(repo: string, branch: string, path: string, file: File, onProgress: (fraction: number) => void): Promise<ObjectStats> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url(`/repositories/${enc(repo)}/branches/${enc(branch)}/objects`, { path }));
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* empty */
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as ObjectStats);
      } else {
        const message = body && typeof body === "object" && "message" in body ? String((body as { message: unknown }).message) : `upload failed (${xhr.status})`;
        reject(new ApiError(xhr.status, message, body));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network error", null));
    xhr.send(file);
  });
}

export function objectUrl(repo: string, ref: string, path: string): string {
  return url(`/repositories/${enc(repo)}/refs/${enc(ref)}/objects`, { path });
}

/** A ref for display: commit ids shortened to 12 characters. */
export function shortRef(r: string): string {
  return /^[0-9a-f]{64}$/.test(r) ? r.slice(0, 12) : r;
}

export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString();
}

export function formatSize(bytes?: number): string {
  if (bytes === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
