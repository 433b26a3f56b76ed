/** "Did you mean …?" for a mistyped option or setting name: the closest known name, if close enough. */

/** The candidate nearest to `input` by edit distance, or undefined when none is plausibly meant. */
export function nearestName(input: string, candidates: Iterable<string>): string | undefined {
  const typed = input.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(typed, name.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  if (best === undefined) return undefined;
  // A third of the typed length tolerates a dropped or swapped letter or two, not a different
  // word; one- and two-letter names are too short for any guess to mean much.
  const tolerance = Math.floor(typed.replace(/^-+/, "").length / 3);
  return best.distance <= tolerance ? best.name : undefined;
}

/** Levenshtein distance, with a transposition of two neighbours counting as one edit. */
export function editDistance(left: string, right: string): number {
  const rows: number[][] = [];
  for (let row = 0; row <= left.length; row++) {
    rows.push([row]);
    for (let column = 1; column <= right.length; column++) rows[row]![column] = row === 0 ? column : 0;
  }
  for (let row = 1; row <= left.length; row++) {
    for (let column = 1; column <= right.length; column++) {
      const substitution = left[row - 1] === right[column - 1] ? 0 : 1;
      let distance = Math.min(
        rows[row - 1]![column]! + 1,
        rows[row]![column - 1]! + 1,
        rows[row - 1]![column - 1]! + substitution,
      );
      const isTransposition =
        row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1];
      if (isTransposition) distance = Math.min(distance, rows[row - 2]![column - 2]! + 1);
      rows[row]![column] = distance;
    }
  }
  return rows[left.length]![right.length]!;
}
