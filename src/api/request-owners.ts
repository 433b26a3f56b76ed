/**
 * Which key sent each running or queued request, so a `user` key can read and cancel its own
 * requests and no one else's.
 */
export class RequestOwners {
  readonly #owners = new Map<string, string>();

  /** Records the owner until the returned release is called (idempotent). */
  track(requestId: string, keyId: string): () => void {
    this.#owners.set(requestId, keyId);
    let isReleased = false;
    return () => {
      if (isReleased) return;
      isReleased = true;
      if (this.#owners.get(requestId) === keyId) this.#owners.delete(requestId);
    };
  }

  ownerOf(requestId: string): string | undefined {
    return this.#owners.get(requestId);
  }
}
