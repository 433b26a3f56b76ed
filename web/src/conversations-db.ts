/** Conversations kept in the browser (IndexedDB `rawrxd-shell`, store `conversations`, key `id`). */
import type { Conversation } from "./chat-state.js";

const databaseName = "rawrxd-shell";
const storeName = "conversations";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(databaseName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(storeName, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB could not be opened"));
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  action: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const database = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = action(database.transaction(storeName, mode).objectStore(storeName));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
    });
  } finally {
    database.close();
  }
}

export async function loadConversations(): Promise<Conversation[]> {
  const all = await run("readonly", (store) => store.getAll() as IDBRequest<Conversation[]>);
  return all.sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function saveConversation(conversation: Conversation): Promise<void> {
  await run("readwrite", (store) => store.put(conversation));
}

export async function deleteConversation(id: string): Promise<void> {
  await run("readwrite", (store) => store.delete(id));
}
