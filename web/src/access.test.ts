import { describe, expect, it } from "vitest";
import { identityOf, isAdmin, readKey, visiblePanels, writeKey, type KeyStorage } from "./access.js";

function memoryStorage(): KeyStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

describe("panels by role", () => {
  it("admins see every panel; user keys no admin panel; nobody before sign-in", () => {
    const admin = identityOf({ key_id: "config-1", role: "admin", keys_required: true });
    const user = identityOf({ key_id: "abc", role: "user", keys_required: true });
    expect(visiblePanels(admin).map((panel) => panel.id)).toEqual(["chat", "models", "operations"]);
    expect(visiblePanels(user).map((panel) => panel.id)).toEqual(["chat", "models"]);
    // The Workspace panel: admins only, and only when the server has a --workspace.
    expect(visiblePanels(admin, { workspace: true }).map((panel) => panel.id)).toEqual([
      "chat",
      "models",
      "operations",
      "workspace",
    ]);
    expect(visiblePanels(user, { workspace: true }).map((panel) => panel.id)).toEqual(["chat", "models"]);
    expect(visiblePanels(undefined)).toEqual([]);
    expect(isAdmin(admin)).toBe(true);
    expect(isAdmin(user)).toBe(false);
    // An unknown role is treated as the least one.
    expect(identityOf({ key_id: "x", role: "superuser", keys_required: true }).role).toBe("user");
  });
});

describe("the key in session storage", () => {
  it("is trimmed when stored and removed when blank", () => {
    const storage = memoryStorage();
    expect(readKey(storage)).toBeUndefined();
    writeKey(storage, "  rxd_key  ");
    expect(readKey(storage)).toBe("rxd_key");
    writeKey(storage, " ");
    expect(storage.items.size).toBe(0);
  });
});
