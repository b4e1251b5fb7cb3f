import { FormEvent, ReactNode, useState } from "react";
import { Link, NavLink, useNavigate, useParams } from "react-router-dom";
import { Credentials, CredentialsWithSecret, del, enc, formatDate, get, Group, Listing, Policy, post, put, User } from "../api";
import { useUser } from "../App";
import { Empty, ErrorBox, Loading, Modal, Pager, useAction, useAsync, usePager, FormEnd, SecretPair } from "../components/common";

const PAGE = 50;

function AdminTabs() {
  return (
    <nav className="tabs" aria-label="Administration">
      <NavLink to="/auth/users">Users</NavLink>
      <NavLink to="/auth/groups">Groups</NavLink>
      <NavLink to="/auth/policies">Policies</NavLink>
      <NavLink to="/auth/credentials">My credentials</NavLink>
    </nav>
  );
}

function Admin({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section>
      <h1>{title}</h1>
      <AdminTabs />
      {children}
    </section>
  );
}

/** A one-field create form in a dialog. */
function CreateOne({ title, field, extra, onClose, submit }: { title: string; field: string; extra?: string; onClose: () => void; submit: (v: string, extra: string) => Promise<unknown> }) {
  const [value, setValue] = useState("");
  const [more, setMore] = useState("");
  const action = useAction();
  return (
    <Modal title={title} onClose={onClose}>
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          action.run(() => submit(value, more));
        }}
      >
        <label>
          {field}
          <input name="id" value={value} onChange={(e) => setValue(e.target.value)} required />
        </label>
        {extra && (
          <label>
            {extra}
            <input name="extra" value={more} onChange={(e) => setMore(e.target.value)} />
          </label>
        )}
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Create" />
      </form>
    </Modal>
  );
}

/** A paged list of entities with links and a delete button each. */
function EntityList<T extends { id: string; creation_date?: number }>({ path, to, noun }: { path: string; to: (t: T) => string; noun: string }) {
  const [prefix, setPrefix] = useState("");
  const pager = usePager(prefix);
  const list = useAsync(() => get<Listing<T>>(path, { after: pager.after, amount: PAGE, prefix }), [path, pager.after, prefix]);
  const [creating, setCreating] = useState(false);
  const action = useAction();
  const navigate = useNavigate();
  return (
    <>
      <div className="bar">
        <input type="search" aria-label={`Filter ${noun}s`} placeholder="Filter by prefix" value={prefix} onChange={(e) => setPrefix(e.target.value)} />
        <span className="grow" />
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create {noun}
        </button>
      </div>
      <ErrorBox error={list.error || action.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data?.results.length === 0 ? (
        <Empty>No {noun}s.</Empty>
      ) : (
        <table className="listing" aria-label={`${noun}s`}>
          <tbody>
            {list.data?.results.map((t) => (
              <tr key={t.id}>
                <td>
                  <Link to={to(t)}>{t.id}</Link>
                </td>
                <td className="hide-narrow muted">{t.creation_date ? formatDate(t.creation_date) : ""}</td>
                <td className="num">
                  <button
                    type="button"
                    className="small danger"
                    aria-label={`Delete ${noun} ${t.id}`}
                    onClick={() =>
                      window.confirm(`Delete ${noun} ${t.id}?`) &&
                      action.run(async () => {
                        await del(`${path}/${enc(t.id)}`);
                        list.reload();
                      })
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} hasMore={list.data?.pagination.has_more} nextOffset={list.data?.pagination.next_offset} />
      {creating && noun !== "policy" && (
        <CreateOne
          title={`Create ${noun}`}
          field={`${noun[0].toUpperCase()}${noun.slice(1)} ID`}
          extra={noun === "group" ? "Description" : undefined}
          onClose={() => setCreating(false)}
          submit={async (id, extra) => {
            await post(path, noun === "group" ? { id, description: extra || undefined } : { id });
            setCreating(false);
            list.reload();
          }}
        />
      )}
      {creating && noun === "policy" && <PolicyEditor onClose={() => setCreating(false)} onSaved={(p) => navigate(`/auth/policies/${enc(p.id)}`)} />}
    </>
  );
}

export const UsersPage = () => (
  <Admin title="Administration">
    <EntityList<User> path="/auth/users" noun="user" to={(u) => `/auth/users/${enc(u.id)}`} />
  </Admin>
);
export const GroupsPage = () => (
  <Admin title="Administration">
    <EntityList<Group> path="/auth/groups" noun="group" to={(g) => `/auth/groups/${enc(g.id)}`} />
  </Admin>
);
export const PoliciesPage = () => (
  <Admin title="Administration">
    <EntityList<Policy> path="/auth/policies" noun="policy" to={(p) => `/auth/policies/${enc(p.id)}`} />
  </Admin>
);

/** Items linked to an owner (a user's groups, a group's members, ...), with add and remove. */
function Links({
  title,
  list,
  add,
  remove,
  to,
  placeholder,
  onChange,
  owner,
}: {
  owner: string;
  title: string;
  list: () => Promise<Listing<{ id: string }>>;
  add: (id: string) => Promise<unknown>;
  remove: (id: string) => Promise<unknown>;
  to: (id: string) => string;
  placeholder: string;
  onChange?: () => void;
}) {
  const items = useAsync(list, [title, owner]);
  const [value, setValue] = useState("");
  const action = useAction();
  return (
    <div className="card">
      <h2>{title}</h2>
      {items.loading && !items.data && <Loading />}
      <ErrorBox error={items.error || action.error} />
      {items.data?.results.length === 0 && <p className="muted">None.</p>}
      {items.data?.pagination.has_more && <p className="muted small">Showing the first 100.</p>}
      <ul className="chips">
        {items.data?.results.map((i) => (
          <li key={i.id}>
            <Link to={to(i.id)}>{i.id}</Link>
            <button type="button" className="plain" aria-label={`Remove ${i.id}`} onClick={() => action.run(async () => (await remove(i.id), items.reload(), onChange?.()))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          action.run(async () => {
            await add(value);
            setValue("");
            items.reload();
            onChange?.();
          });
        }}
      >
        <input aria-label={placeholder} placeholder={placeholder} value={value} onChange={(e) => setValue(e.target.value)} required />
        <button type="submit" className="small">
          Add
        </button>
      </form>
    </div>
  );
}

function CredentialList({ user }: { user: string }) {
  const list = useAsync(() => get<Listing<Credentials>>(`/auth/users/${enc(user)}/credentials`, { amount: 100 }), [user]);
  const [created, setCreated] = useState<CredentialsWithSecret | null>(null);
  const action = useAction();
  return (
    <div className="card">
      <div className="bar">
        <h2>Access keys</h2>
        <span className="grow" />
        <button type="button" className="primary" disabled={action.busy} onClick={() => action.run(async () => (setCreated(await post<CredentialsWithSecret>(`/auth/users/${enc(user)}/credentials`)), list.reload()))}>
          Create access key
        </button>
      </div>
      {list.loading && !list.data && <Loading />}
      <ErrorBox error={list.error || action.error} />
      {list.data?.results.length === 0 && <p className="muted">No access keys.</p>}
      {list.data?.pagination.has_more && <p className="muted small">Showing the first 100 keys.</p>}
      <table className="listing" aria-label="Access keys">
        <tbody>
          {list.data?.results.map((c) => (
            <tr key={c.access_key_id}>
              <td className="mono">{c.access_key_id}</td>
              <td className="hide-narrow muted">{formatDate(c.creation_date)}</td>
              <td className="num">
                <button
                  type="button"
                  className="small danger"
                  aria-label={`Delete key ${c.access_key_id}`}
                  onClick={() => window.confirm(`Delete access key ${c.access_key_id}? Clients using it stop working.`) && action.run(async () => (await del(`/auth/users/${enc(user)}/credentials/${enc(c.access_key_id)}`), list.reload()))}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {created && (
        <Modal title="New access key" onClose={() => setCreated(null)}>
          <p>
            <strong>Copy the secret now:</strong> it is not shown again.
          </p>
          <SecretPair credentials={created} testId="new" />
          <div className="actions">
            <button type="button" className="primary" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </Modal>
      )}
    </div>
  );
}

export function UserPage() {
  const { userId = "" } = useParams();
  const user = useAsync(() => get<User>(`/auth/users/${enc(userId)}`), [userId]);
  const base = `/auth/users/${enc(userId)}`;
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((c) => c + 1);
  return (
    <Admin title={`User ${userId}`}>
      <ErrorBox error={user.error} />
      {user.data && <p className="muted">Created {formatDate(user.data.creation_date)}</p>}
      <div className="grid">
        <Links owner={base} title="Groups" placeholder="Group ID" list={() => get(`${base}/groups`, { amount: 100 })} add={(g) => put(`/auth/groups/${enc(g)}/members/${enc(userId)}`)} remove={(g) => del(`/auth/groups/${enc(g)}/members/${enc(userId)}`)} to={(g) => `/auth/groups/${enc(g)}`} onChange={changed} />
        <Links owner={base} title="Policies attached" placeholder="Policy ID" list={() => get(`${base}/policies`, { amount: 100 })} add={(p) => put(`${base}/policies/${enc(p)}`)} remove={(p) => del(`${base}/policies/${enc(p)}`)} to={(p) => `/auth/policies/${enc(p)}`} onChange={changed} />
        <Effective key={changes} user={userId} />
        <CredentialList user={userId} />
      </div>
    </Admin>
  );
}

function Effective({ user }: { user: string }) {
  const list = useAsync(() => get<Listing<Policy>>(`/auth/users/${enc(user)}/policies`, { effective: true, amount: 100 }), [user]);
  return (
    <div className="card">
      <h2>Effective policies</h2>
      <p className="muted small">Attached to the user or to its groups.</p>
      {list.loading && <Loading />}
      <ErrorBox error={list.error} />
      <ul className="chips">
        {list.data?.results.map((p) => (
          <li key={p.id}>
            <Link to={`/auth/policies/${enc(p.id)}`}>{p.id}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function GroupPage() {
  const { groupId = "" } = useParams();
  const base = `/auth/groups/${enc(groupId)}`;
  const group = useAsync(() => get<Group>(base), [groupId]);
  return (
    <Admin title={`Group ${groupId}`}>
      <ErrorBox error={group.error} />
      {group.data?.description && <p>{group.data.description}</p>}
      <div className="grid">
        <Links owner={base} title="Members" placeholder="User ID" list={() => get(`${base}/members`, { amount: 100 })} add={(u) => put(`${base}/members/${enc(u)}`)} remove={(u) => del(`${base}/members/${enc(u)}`)} to={(u) => `/auth/users/${enc(u)}`} />
        <Links owner={base} title="Policies" placeholder="Policy ID" list={() => get(`${base}/policies`, { amount: 100 })} add={(p) => put(`${base}/policies/${enc(p)}`)} remove={(p) => del(`${base}/policies/${enc(p)}`)} to={(p) => `/auth/policies/${enc(p)}`} />
      </div>
    </Admin>
  );
}

const TEMPLATE = JSON.stringify([{ effect: "allow", action: ["fs:ReadObject", "fs:ListObjects"], resource: "arn:lakefs:fs:::repository/my-repo/*" }], null, 2);

function PolicyEditor({ policy, onClose, onSaved }: { policy?: Policy; onClose: () => void; onSaved: (p: Policy) => void }) {
  const [id, setId] = useState(policy?.id ?? "");
  const [text, setText] = useState(policy ? JSON.stringify(policy.statement, null, 2) : TEMPLATE);
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.run(async () => {
      let statement: unknown;
      try {
        statement = JSON.parse(text);
      } catch {
        throw new Error("The statements are not valid JSON");
      }
      const body = { id, statement };
      onSaved(policy ? await put<Policy>(`/auth/policies/${enc(id)}`, body) : await post<Policy>("/auth/policies", body));
    });
  };
  return (
    <Modal title={policy ? `Edit ${policy.id}` : "Create policy"} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Policy ID
          <input name="id" value={id} onChange={(e) => setId(e.target.value)} required disabled={!!policy} />
        </label>
        <label>
          Statements (JSON)
          <textarea name="statement" className="mono" rows={12} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
        </label>
        <FormEnd error={action.error} busy={action.busy} onCancel={onClose} submit="Save policy" />
      </form>
    </Modal>
  );
}

export function PolicyPage() {
  const { policyId = "" } = useParams();
  const policy = useAsync(() => get<Policy>(`/auth/policies/${enc(policyId)}`), [policyId]);
  const [editing, setEditing] = useState(false);
  return (
    <Admin title={`Policy ${policyId}`}>
      <ErrorBox error={policy.error} />
      {policy.loading && !policy.data && <Loading />}
      {policy.data && (
        <div className="card">
          <div className="bar">
            <h2>Statements</h2>
            <span className="grow" />
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
          </div>
          <pre className="code">{JSON.stringify(policy.data.statement, null, 2)}</pre>
        </div>
      )}
      {editing && policy.data && (
        <PolicyEditor
          policy={policy.data}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            policy.reload();
          }}
        />
      )}
    </Admin>
  );
}

export function CredentialsPage() {
  const me = useUser();
  return <Admin title="Administration">{me ? <CredentialList user={me.id} /> : <Loading />}</Admin>;
}
