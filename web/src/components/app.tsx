/** The shell: who is signed in (GET /v1/whoami), the panels that caller may see, one visible at a time. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api, ApiError } from "../api.js";
import {
  identityOf,
  isAdmin,
  readKey,
  visiblePanels,
  writeKey,
  type Identity,
  type PanelId,
} from "../access.js";
import { ChatPanel } from "./chat-panel.js";
import { ModelsPanel } from "./models-panel.js";
import { OpsPanel } from "./ops-panel.js";
import { SignIn } from "./sign-in.js";
import { WorkspaceLoader } from "./workspace-loader.js";

type Session =
  { kind: "checking" } | { kind: "signed-in"; identity: Identity } | { kind: "needs-key"; message?: string };

export function App() {
  const [key, setKey] = useState<string | undefined>(() => readKey(sessionStorage));
  const api = useMemo(() => new Api(key), [key]);
  const [session, setSession] = useState<Session>({ kind: "checking" });
  const [panel, setPanel] = useState<PanelId>(() => (location.hash.slice(1) as PanelId) || "chat");

  useEffect(() => {
    let isCurrent = true;
    void api
      .get<{ key_id: string; role: string; keys_required: boolean }>("/v1/whoami")
      .then((body) => isCurrent && setSession({ kind: "signed-in", identity: identityOf(body) }))
      .catch((error: unknown) => {
        if (!isCurrent) return;
        if (key !== undefined) writeKey(sessionStorage, undefined);
        setSession({
          kind: "needs-key",
          ...(key !== undefined && error instanceof ApiError ? { message: error.message } : {}),
        });
      });
    return () => {
      isCurrent = false;
    };
  }, [api]);

  const identity = session.kind === "signed-in" ? session.identity : undefined;
  // The Workspace tab appears only when the server has a --workspace (admins only).
  const [hasWorkspace, setHasWorkspace] = useState(false);
  useEffect(() => {
    setHasWorkspace(false);
    if (!isAdmin(identity)) return;
    void api
      .get<{ enabled: boolean }>("/v1/workspace")
      .then((body) => setHasWorkspace(body.enabled))
      .catch(() => undefined);
  }, [api, identity?.role]);
  const panels = visiblePanels(identity, { workspace: hasWorkspace });
  const shown = panels.some((item) => item.id === panel) ? panel : "chat";
  const open = (id: PanelId): void => {
    setPanel(id);
    history.replaceState(null, "", `#${id}`);
  };
  const signOut = (): void => {
    writeKey(sessionStorage, undefined);
    setKey(undefined);
  };

  return (
    <div class="shell">
      <header>
        <h1>RawrXD</h1>
        <nav aria-label="Panels">
          {panels.map((item) => (
            <button
              key={item.id}
              type="button"
              id={`tab-${item.id}`}
              aria-current={item.id === shown ? "page" : undefined}
              onClick={() => open(item.id)}
            >
              {item.title}
            </button>
          ))}
        </nav>
        {identity !== undefined && (
          <p class="who-am-i">
            <span id="identity">
              {identity.keysRequired
                ? `${identity.keyId} (${identity.role})`
                : "local, no key needed (admin)"}
            </span>
            {identity.keysRequired && (
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            )}
          </p>
        )}
      </header>
      <main>
        {session.kind === "checking" && <p class="muted">Connecting…</p>}
        {session.kind === "needs-key" && (
          <SignIn
            {...(session.message === undefined ? {} : { message: session.message })}
            onKey={(value) => {
              writeKey(sessionStorage, value);
              setKey(value);
              setSession({ kind: "checking" });
            }}
          />
        )}
        {identity !== undefined && (
          <>
            <div hidden={shown !== "chat"}>
              <ChatPanel api={api} active={shown === "chat"} />
            </div>
            <div hidden={shown !== "models"}>
              <ModelsPanel
                api={api}
                admin={isAdmin(identity)}
                active={shown === "models"}
                now={() => Date.now()}
              />
            </div>
            {isAdmin(identity) && (
              <div hidden={shown !== "operations"}>
                <OpsPanel api={api} active={shown === "operations"} />
              </div>
            )}
            {isAdmin(identity) && hasWorkspace && (
              <div hidden={shown !== "workspace"}>
                <WorkspaceLoader api={api} active={shown === "workspace"} />
              </div>
            )}
          </>
        )}
      </main>
    </div>
  );
}
