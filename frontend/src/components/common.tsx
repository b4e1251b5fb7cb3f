import { ReactNode, useCallback, useEffect, useRef, useState } from "react";

/**
 * Runs `load` when `deps` (primitives) change; loading, error and data
 * states. Data loaded for other deps is never returned: while new inputs
 * load, `data` is undefined rather than stale.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const key = JSON.stringify(deps);
  const [state, setState] = useState<{ key?: string; data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ key, data, loading: false }),
      (error: Error) => live && setState({ key, error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: state.loading || !current,
    reload,
  };
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      {what}…
    </div>
  );
}

export function ErrorBox({ error }: { error?: Error | null }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {error.message}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

let modalIds = 0;

/**
 * A modal dialog: focus moves inside and stays there (Tab cycles), Escape or
 * the close button dismisses it, and focus returns where it was.
 */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  const [titleId] = useState(() => `modal-title-${++modalIds}`);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const root = ref.current;
    const first = root?.querySelector<HTMLElement>("input, textarea, select") ?? root?.querySelector<HTMLElement>(".actions button, button");
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        close.current();
        return;
      }
      if (e.key !== "Tab" || !root) return;
      const focusable = Array.from(root.querySelectorAll<HTMLElement>("a[href], button:not([disabled]), input:not([disabled]), textarea, select"));
      if (focusable.length === 0) return;
      const [head, tail] = [focusable[0], focusable[focusable.length - 1]];
      if (e.shiftKey && document.activeElement === head) {
        e.preventDefault();
        tail.focus();
      } else if (!e.shiftKey && document.activeElement === tail) {
        e.preventDefault();
        head.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      before?.focus?.();
    };
  }, []);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && close.current()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby={titleId} ref={ref}>
        <div className="modal-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="plain" aria-label="Close" onClick={() => close.current()}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/**
 * Pages through a listing by `after` cursors (previous pages are a stack).
 * A new `scope` (a filter, a ref, a prefix) starts again at page 1 at once,
 * so no request ever pairs a cursor with another listing.
 */
export function usePager(scope = "") {
  const [state, setState] = useState<{ scope: string; stack: string[] }>({ scope, stack: [""] });
  const stack = state.scope === scope ? state.stack : [""];
  return {
    after: stack[stack.length - 1],
    page: stack.length,
    next: (offset: string) => setState({ scope, stack: [...stack, offset] }),
    prev: () => setState({ scope, stack: stack.length > 1 ? stack.slice(0, -1) : stack }),
    reset: () => setState({ scope, stack: [""] }),
  };
}

export function Pager({ pager, hasMore, nextOffset }: { pager: ReturnType<typeof usePager>; hasMore?: boolean; nextOffset?: string }) {
  if (pager.page === 1 && !hasMore) return null;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" disabled={pager.page === 1} onClick={pager.prev}>
        ← Previous
      </button>
      <span>Page {pager.page}</span>
      <button type="button" disabled={!hasMore} onClick={() => nextOffset && pager.next(nextOffset)}>
        Next →
      </button>
    </nav>
  );
}

/** A button that runs an async action, disabled while it runs, showing its error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (e) {
      setError(e as Error);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

/** The end of a dialog's form: its error, Cancel, and the submit button. */
export function FormEnd({ error, busy, onCancel, submit, danger = false, disabled = false }: { error: Error | null; busy: boolean; onCancel: () => void; submit: ReactNode; danger?: boolean; disabled?: boolean }) {
  return (
    <>
      <ErrorBox error={error} />
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={danger ? "danger" : "primary"} disabled={busy || disabled}>
          {submit}
        </button>
      </div>
    </>
  );
}

/** A new access key pair, shown once (`testId`-key and `testId`-secret for tests). */
export function SecretPair({ credentials, testId }: { credentials: { access_key_id: string; secret_access_key: string }; testId: string }) {
  return (
    <dl className="secret">
      <dt>Access key ID</dt>
      <dd>
        <code data-testid={`${testId}-key`}>{credentials.access_key_id}</code>
      </dd>
      <dt>Secret access key</dt>
      <dd>
        <code data-testid={`${testId}-secret`}>{credentials.secret_access_key}</code>
      </dd>
    </dl>
  );
}
