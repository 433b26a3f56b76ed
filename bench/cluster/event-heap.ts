/** A min-heap of events by virtual time; equal times keep their push order (a stable run). */
export class EventHeap<Item> {
  readonly #entries: { atMs: number; order: number; item: Item }[] = [];
  #pushed = 0;

  get size(): number {
    return this.#entries.length;
  }

  push(atMs: number, item: Item): void {
    const entries = this.#entries;
    entries.push({ atMs, order: (this.#pushed += 1), item });
    let index = entries.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#isBefore(index, parent)) break;
      [entries[index], entries[parent]] = [entries[parent]!, entries[index]!];
      index = parent;
    }
  }

  pop(): { atMs: number; item: Item } | undefined {
    const entries = this.#entries;
    const top = entries[0];
    if (top === undefined) return undefined;
    const last = entries.pop()!;
    if (entries.length > 0) {
      entries[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < entries.length && this.#isBefore(left, smallest)) smallest = left;
        if (right < entries.length && this.#isBefore(right, smallest)) smallest = right;
        if (smallest === index) break;
        [entries[index], entries[smallest]] = [entries[smallest]!, entries[index]!];
        index = smallest;
      }
    }
    return { atMs: top.atMs, item: top.item };
  }

  #isBefore(left: number, right: number): boolean {
    const a = this.#entries[left]!;
    const b = this.#entries[right]!;
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
  }
}
