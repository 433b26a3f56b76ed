/**
 * A stream's per-piece text frame as a template (ADR 0056): what a route writes for one piece of
 * a plain text-delta, with slots for the piece's JSON string and, for formats that stamp each
 * line (Ollama's `created_at`), the wall-clock time. The runner renders it when it writes a
 * lent stream's frames itself, so its frames are the bytes the route would have written.
 */

export type TextFrameSlot = "text" | "time";

export interface TextFrameTemplate {
  /** Literal text around the slots: `parts.length === slots.length + 1`. */
  parts: string[];
  slots: TextFrameSlot[];
}

/** The placeholder a route serialises in place of the piece's text (a JSON string). */
export const textSlotMarker = "\u0000";
/** The placeholder a route puts in place of the ISO time (inside its JSON string). */
export const timeSlotMarker = "\u0001";

/**
 * The template of `frame`, a frame the route built with `textSlotMarker` as the text (a JSON
 * string value, so `"\\u0000"` in the frame) and `timeSlotMarker` inside the time string.
 */
export function textFrameTemplate(frame: string): TextFrameTemplate {
  const parts: string[] = [];
  const slots: TextFrameSlot[] = [];
  const pattern = /"\\u0000"|\\u0001/g;
  let start = 0;
  for (const match of frame.matchAll(pattern)) {
    parts.push(frame.slice(start, match.index));
    slots.push(match[0] === '"\\u0000"' ? "text" : "time");
    start = match.index + match[0].length;
  }
  parts.push(frame.slice(start));
  return { parts, slots };
}

/** One piece's frame: the piece as a JSON string in each text slot, `isoTime` in each time slot. */
export function renderTextFrame(template: TextFrameTemplate, piece: string, isoTime: string): string {
  const { parts, slots } = template;
  let frame = parts[0]!;
  for (let index = 0; index < slots.length; index++) {
    frame += (slots[index] === "text" ? JSON.stringify(piece) : isoTime) + parts[index + 1]!;
  }
  return frame;
}
