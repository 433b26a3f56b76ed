/** Who is signed in, and which panels that caller sees. The server refuses admin routes anyway. */
export type Role = "admin" | "user";

export interface Identity {
  keyId: string;
  role: Role;
  keysRequired: boolean;
}

export type PanelId = "models" | "chat" | "operations" | "workspace";

export interface PanelSpec {
  id: PanelId;
  title: string;
  adminOnly: boolean;
  /** Shown only when the server offers it (the workspace: --workspace). */
  needsWorkspace?: boolean;
}

export const panels: readonly PanelSpec[] = [
  { id: "chat", title: "Chat", adminOnly: false },
  { id: "models", title: "Models", adminOnly: false },
  { id: "operations", title: "Operations", adminOnly: true },
  // The workspace routes are admin-only (docs/decisions/0029-workspace-panel.md).
  { id: "workspace", title: "Workspace", adminOnly: true, needsWorkspace: true },
];

/** The panels a caller may open; user keys get no admin panel; Workspace only with a workspace. */
export function visiblePanels(
  identity: Identity | undefined,
  offers: { workspace?: boolean } = {},
): PanelSpec[] {
  if (identity === undefined) return [];
  return panels.filter(
    (panel) =>
      (!panel.adminOnly || identity.role === "admin") &&
      (panel.needsWorkspace !== true || offers.workspace === true),
  );
}

/** Whether admin-only controls (load, unload, pin, pull, cancel others) appear. */
export function isAdmin(identity: Identity | undefined): boolean {
  return identity?.role === "admin";
}

/** The wire body of GET /v1/whoami. */
export function identityOf(body: { key_id: string; role: string; keys_required: boolean }): Identity {
  return {
    keyId: body.key_id,
    role: body.role === "admin" ? "admin" : "user",
    keysRequired: body.keys_required,
  };
}

/** The key for this tab only: session storage (gone when the tab closes), never local storage. */
export interface KeyStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const storageKey = "rawrxd.apiKey";

export function readKey(storage: KeyStorage): string | undefined {
  const key = storage.getItem(storageKey);
  return key === null || key === "" ? undefined : key;
}

export function writeKey(storage: KeyStorage, key: string | undefined): void {
  if (key === undefined || key.trim() === "") storage.removeItem(storageKey);
  else storage.setItem(storageKey, key.trim());
}
