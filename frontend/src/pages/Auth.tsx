import { FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { CredentialsWithSecret, get, post, User } from "../api";
import { ErrorBox, useAction, SecretPair } from "../components/common";

export function LoginPage({ onLogin }: { onLogin: (u: User) => void }) {
  const [key, setKey] = useState("");
  const [secret, setSecret] = useState("");
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.run(async () => {
      await post("/auth/login", { access_key_id: key, secret_access_key: secret });
      const me = await get<{ user: User }>("/user");
      onLogin(me.user);
    });
  };
  return (
    <div className="center">
      <form className="card narrow" onSubmit={submit} aria-label="Log in">
        <h1>Log in to Tarn</h1>
        <label>
          Access key ID
          <input name="access_key_id" autoComplete="username" value={key} onChange={(e) => setKey(e.target.value)} required autoFocus />
        </label>
        <label>
          Secret access key
          <input name="secret_access_key" type="password" autoComplete="current-password" value={secret} onChange={(e) => setSecret(e.target.value)} required />
        </label>
        <ErrorBox error={action.error && new Error(action.error.message === "error authenticating request" ? "Wrong access key or secret" : action.error.message)} />
        <button type="submit" className="primary" disabled={action.busy}>
          {action.busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </div>
  );
}

export function SetupPage({ onDone }: { onDone: () => void }) {
  const [username, setUsername] = useState("admin");
  const [created, setCreated] = useState<CredentialsWithSecret | null>(null);
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.run(async () => setCreated(await post<CredentialsWithSecret>("/setup_lakefs", { username })));
  };
  if (created) {
    return (
      <div className="center">
        <div className="card narrow">
          <h1>Tarn is set up</h1>
          <p>
            The admin <strong>{username}</strong> can log in with this key pair. <strong>The secret is shown only now</strong>: copy it somewhere safe.
          </p>
          <SecretPair credentials={created} testId="setup" />
          <Link className="button primary" to="/auth/login" onClick={onDone}>
            Go to login
          </Link>
        </div>
      </div>
    );
  }
  return (
    <div className="center">
      <form className="card narrow" onSubmit={submit} aria-label="Set up Tarn">
        <h1>Welcome to Tarn</h1>
        <p>Create the first user: an administrator. Its access key is generated and shown once.</p>
        <label>
          Admin user name
          <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <ErrorBox error={action.error} />
        <button type="submit" className="primary" disabled={action.busy}>
          Set up
        </button>
      </form>
    </div>
  );
}
