import { createContext, useContext, useEffect, useRef, useState } from "react";
import { Link, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { get, User } from "./api";
import { Loading } from "./components/common";
import { LoginPage, SetupPage } from "./pages/Auth";
import { ReposPage } from "./pages/Repos";
import { RepoLayout } from "./pages/RepoLayout";
import { ObjectsPage } from "./pages/Objects";
import { ChangesPage } from "./pages/Changes";
import { CommitPage, CommitsPage } from "./pages/Commits";
import { BranchesPage, TagsPage } from "./pages/Refs";
import { ComparePage } from "./pages/Compare";
import { GcPage } from "./pages/Gc";
import { ActionsPage } from "./pages/Actions";
import { CredentialsPage, GroupPage, GroupsPage, PoliciesPage, PolicyPage, UserPage, UsersPage } from "./pages/Admin";

const UserContext = createContext<User | null>(null);
export const useUser = () => useContext(UserContext);

/** Who is logged in: undefined while asking, null when nobody. */
function useSession() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [setup, setSetup] = useState<boolean | undefined>(undefined);
  const location = useLocation();
  useEffect(() => {
    get<{ state: string }>("/setup_lakefs").then(
      (s) => setSetup(s.state === "initialized"),
      () => setSetup(true),
    );
  }, []);
  useEffect(() => {
    get<{ user: User }>("/user").then(
      (u) => setUser(u.user),
      () => setUser(null),
    );
  }, [location.pathname === "/auth/login"]);
  useEffect(() => {
    const onUnauth = () => setUser(null);
    window.addEventListener("tarn:unauthenticated", onUnauth);
    return () => window.removeEventListener("tarn:unauthenticated", onUnauth);
  }, []);
  return { user, setUser, setup, setSetup };
}

function Header({ user }: { user: User }) {
  return (
    <header className="top">
      <Link to="/repositories" className="brand">
        Tarn
      </Link>
      <nav aria-label="Main">
        <NavLink to="/repositories">Repositories</NavLink>
        <NavLink to="/auth/users">Administration</NavLink>
      </nav>
      <div className="who">
        <span title="Logged in as">{user.id}</span>
        <a href="/logout" className="button">
          Log out
        </a>
      </div>
    </header>
  );
}

export function App() {
  const { user, setUser, setup, setSetup } = useSession();
  const setupShown = useRef(false);
  const navigate = useNavigate();
  const location = useLocation();
  if (setup === undefined || user === undefined) return <Loading />;
  if (!setup && location.pathname !== "/setup") return <Navigate to="/setup" replace />;
  if (location.pathname === "/setup") {
    // Setup happens once; afterwards the page only leads on.
    if (setup && !setupShown.current) return <Navigate to="/" replace />;
    setupShown.current = true;
    return <SetupPage onDone={() => setSetup(true)} />;
  }
  if (!user) {
    if (location.pathname !== "/auth/login") {
      return <Navigate to={`/auth/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
    }
    return (
      <LoginPage
        onLogin={(u) => {
          setUser(u);
          const next = new URLSearchParams(location.search).get("next");
          // Only paths of this site: not "//host" or "/\\host".
          const local = next && next.startsWith("/") && !/^[/\\]{2}/.test(next) && !next.startsWith("/\\");
          navigate(local ? next : "/repositories", { replace: true });
        }}
      />
    );
  }
  return (
    <UserContext.Provider value={user}>
      <Header user={user} />
      <main>
        <Routes>
          <Route path="/" element={<Navigate to="/repositories" replace />} />
          <Route path="/auth/login" element={<Navigate to="/repositories" replace />} />
          <Route path="/repositories" element={<ReposPage />} />
          <Route path="/repositories/:repo" element={<RepoLayout />}>
            <Route index element={<Navigate to="objects" replace />} />
            <Route path="objects" element={<ObjectsPage />} />
            <Route path="changes" element={<ChangesPage />} />
            <Route path="commits" element={<CommitsPage />} />
            <Route path="commits/:commitId" element={<CommitPage />} />
            <Route path="branches" element={<BranchesPage />} />
            <Route path="tags" element={<TagsPage />} />
            <Route path="compare" element={<ComparePage />} />
            <Route path="actions" element={<ActionsPage />} />
            <Route path="gc" element={<GcPage />} />
          </Route>
          <Route path="/auth/users" element={<UsersPage />} />
          <Route path="/auth/users/:userId" element={<UserPage />} />
          <Route path="/auth/groups" element={<GroupsPage />} />
          <Route path="/auth/groups/:groupId" element={<GroupPage />} />
          <Route path="/auth/policies" element={<PoliciesPage />} />
          <Route path="/auth/policies/:policyId" element={<PolicyPage />} />
          <Route path="/auth/credentials" element={<CredentialsPage />} />
          <Route path="*" element={<p className="empty">Page not found. <Link to="/repositories">Repositories</Link></p>} />
        </Routes>
      </main>
    </UserContext.Provider>
  );
}
