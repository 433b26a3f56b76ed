/**
 * The request fuzzer's case generator: seeded (mulberry32 from the core), so a failing case
 * reproduces from its seed and index alone. Each case is one HTTP request over any route and
 * any method, with an admin key, a user key, a wrong key or none, carrying hostile bodies,
 * paths, query strings and headers.
 */
import { seededUint32 } from "../../src/core/index.js";

export interface Route {
  method: string;
  path: string;
}

export type Auth = "admin" | "user" | "wrong" | "none";

export interface FuzzCase {
  /** What the case sends, for the failure message. */
  description: string;
  method: string;
  /** Path and query, percent-encoded as it goes on the wire. */
  path: string;
  auth: Auth;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** Send the body chunked (no Content-Length). */
  isChunked: boolean;
  /**
   * The body field the case broke (dotted path), when that is the only fault: the route's own
   * method and plain path, no query, no extra headers, a base body that is otherwise valid.
   */
  field: string | undefined;
  /** The route the case was made from ("POST /api/chat"). */
  routeKey: string;
}

/** The seed from RAWRXD_FUZZ_SEED, or a fixed default so CI runs are the same. */
export function fuzzSeed(): number {
  const text = process.env["RAWRXD_FUZZ_SEED"];
  return text === undefined || text === "" ? 0x5eed_0015 : Number.parseInt(text, 10) >>> 0;
}

/** The case count from RAWRXD_FUZZ_ITERATIONS, else `fallback`. */
export function fuzzIterations(fallback: number): number {
  const count = Number.parseInt(process.env["RAWRXD_FUZZ_ITERATIONS"] ?? "", 10);
  return Number.isInteger(count) && count > 0 ? count : fallback;
}

export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededUint32(seed);
  }
  /** An integer in [0, count). */
  below(count: number): number {
    return this.#next() % count;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
  chance(probability: number): boolean {
    return this.#next() / 0x1_0000_0000 < probability;
  }
}

const messages = [{ role: "user", content: "hi" }];

/** A valid body per route for `model`, so one broken field is the only fault in the request. */
export function baseBodiesFor(model: string): Record<string, Record<string, unknown>> {
  return {
    "POST /v1/chat/completions": { model, messages, max_tokens: 3 },
    "POST /v1/completions": { model, prompt: "hi", max_tokens: 3 },
    "POST /v1/embeddings": { model, input: "hi" },
    "POST /api/generate": { model, prompt: "hi", stream: false, options: { num_predict: 3 } },
    "POST /api/chat": { model, messages, stream: false, options: { num_predict: 3 } },
    "POST /api/embed": { model, input: "hi" },
    "POST /api/show": { model },
    "POST /infill": { model, input_prefix: "a", input_suffix: "b", n_predict: 3 },
    "POST /api/pull": { model, stream: false },
    "DELETE /api/delete": { model: "beta" },
    "POST /api/copy": { source: model, destination: "gamma" },
    "POST /v1/admin/keys": { name: "fuzz", role: "user" },
    "POST /v1/backups": { kind: "full" },
  };
}

/** Fields the dialects know, besides each base body's own: the fuzzer breaks these too. */
const knownFields = [
  "model",
  "prompt",
  "messages",
  "messages.0.content",
  "messages.0.role",
  "input",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "top_k",
  "seed",
  "n",
  "stop",
  "priority",
  "keep_alive",
  "format",
  "response_format",
  "tools",
  "tool_choice",
  "options",
  "options.num_predict",
  "options.num_ctx",
  "options.stop",
  "options.temperature",
  "presence_penalty",
  "frequency_penalty",
  "logprobs",
  "logit_bias",
  "suffix",
  "system",
  "template",
  "raw",
  "images",
  "input_extra",
  "n_cmpl",
  "name",
  "role",
  "kind",
  "read_data",
  "source",
  "destination",
];

/** A marker replaced, after JSON.stringify, by raw text or bytes JSON.stringify cannot write. */
const rawMarker = "__RAW_VALUE__";

/** Raw JSON texts: numbers JSON.parse turns into Infinity, and tokens that make the body invalid. */
const rawTokens = ["1e309", "-1e309", "NaN", "Infinity", "-0", "1e-400", "123456789012345678901234567890"];

/** Invalid UTF-8 inside a string literal: a stray byte, an overlong "/", a UTF-8-encoded surrogate, a cut sequence. */
const invalidUtf8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]];

const hostileStrings = [
  "",
  " ",
  "../../../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "%2e%2e/%2e%2e/secret",
  "alpha\u0000.gguf",
  "\u0000",
  "/etc/passwd",
  "/work/shared/models/stories260K.gguf",
  "C:\\Windows\\win.ini",
  "\\\\server\\share\\x.gguf",
  "\ud800",
  "a\udfffb",
  "\u202egguf.exe",
  "alpha:latest",
  "hf:../../x/y.gguf",
  "x".repeat(70_000),
  "\u{1f600}".repeat(2000),
  "{{ range . }}{{ end }}",
  "<script>alert(1)</script>",
  "\r\nX-Injected: 1",
];

const hostileNumbers = [-1, 0, -0.5, 0.5, 2 ** 31, -(2 ** 31), 2 ** 53 + 1, 1e300, -1e300, 4294967297];

function hostileValue(rng: Rng): unknown {
  switch (rng.below(6)) {
    case 0:
    case 1:
      return rng.pick(hostileStrings);
    case 2:
      return rng.pick(hostileNumbers);
    case 3:
      return rng.pick([null, true, false, [], {}, [1, "a", null], { a: { b: [] } }, [[[]]]]);
    case 4:
      // Many entries: stop strings, messages, tools, input arrays.
      return rng.pick([
        Array.from({ length: 10_000 }, (_, index) => `s${index}`),
        Array.from({ length: 5000 }, () => ({ role: "user", content: "x" })),
        Array.from({ length: 2000 }, () => ({ type: "function", function: { name: "f" } })),
      ]);
    default:
      return rawMarker;
  }
}

/** Sets a dotted path (numeric segments index arrays), creating containers on the way. */
function setPath(body: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split(".");
  let target: Record<string, unknown> = body;
  for (const [index, segment] of segments.slice(0, -1).entries()) {
    const next = target[segment];
    if (typeof next !== "object" || next === null)
      target[segment] = /^\d+$/.test(segments[index + 1]!) ? [] : {};
    target = target[segment] as Record<string, unknown>;
  }
  target[segments.at(-1)!] = value;
}

/** 100,000-deep nesting: arrays, objects, or inside a field a walker might recurse into. */
function deepJson(rng: Rng, depth = 100_000): string {
  const isArray = rng.chance(0.5);
  const open = isArray ? "[" : '{"a":';
  return open.repeat(depth) + "1" + (isArray ? "]" : "}").repeat(depth);
}

const invalidJsonTexts = [
  "",
  "{",
  "{]",
  '{"model": "alpha",}',
  "[1, 2",
  "null",
  "42",
  '"text"',
  "{'model': 'alpha'}",
  '{"model": NaN}',
  "\ufeff{}",
  '{"a":1}{"b":2}',
  '{"__proto__": {"admin": true}, "model": "alpha"}',
  '{"constructor": {"prototype": {"x": 1}}}',
];

function body(
  rng: Rng,
  key: string,
  model: string,
): { bytes: Buffer; description: string; field: string | undefined } {
  const base = structuredClone(baseBodiesFor(model)[key] ?? {});
  // A third of the generation cases stream: errors then travel in SSE / NDJSON, after the head.
  if ("model" in base && rng.chance(0.3)) base["stream"] = true;
  const kind = rng.below(10);
  if (kind === 0) {
    const text = rng.pick(invalidJsonTexts);
    return {
      bytes: Buffer.from(text),
      description: `invalid JSON ${JSON.stringify(text)}`,
      field: undefined,
    };
  }
  if (kind === 1) {
    const field = rng.pick(["", "messages", "format", "tools", "options", "response_format", "input"]);
    const text =
      field === ""
        ? deepJson(rng)
        : JSON.stringify(base)
            .replace(/^\{/, `{"${field}":${deepJson(rng)},`)
            .replace(/,}$/, "}");
    return {
      bytes: Buffer.from(text),
      description: `100,000-deep JSON at ${field || "top"}`,
      field: undefined,
    };
  }
  const fields = [...Object.keys(base), ...knownFields];
  const field = rng.pick(fields);
  const value = kind === 2 ? rawMarker : hostileValue(rng);
  setPath(base, field, value);
  let text = JSON.stringify(base);
  if (value !== rawMarker)
    return { bytes: Buffer.from(text), description: `${field} = ${describeValue(value)}`, field };
  if (rng.chance(0.5)) {
    const token = rng.pick(rawTokens);
    text = text.replace(`"${rawMarker}"`, token);
    // NaN and Infinity make the whole body invalid JSON: no one field is at fault.
    const isValidJson = !/[a-zA-Z]/.test(token.replace(/e/g, ""));
    return {
      bytes: Buffer.from(text),
      description: `${field} = raw ${token}`,
      field: isValidJson ? field : undefined,
    };
  }
  const bytes = rng.pick(invalidUtf8);
  const [before, after] = text.split(rawMarker) as [string, string];
  return {
    bytes: Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]),
    description: `${field} = invalid UTF-8 ${bytes.map((byte) => byte.toString(16)).join(" ")}`,
    field,
  };
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 40)}… (${text.length} chars)` : text;
}

/** Path parameters: traversal, encoded traversal, NUL, absolute paths, bad escapes, huge. */
const hostileSegments = [
  "..",
  "%2e%2e",
  "..%2f..%2fetc%2fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "%00",
  "alpha%00.gguf",
  "%2fetc%2fpasswd",
  "%ff%fe",
  "%ed%a0%80",
  "%",
  "%zz",
  "x".repeat(4000),
  "C:%5cWindows",
];

const queryNames = [
  "limit",
  "offset",
  "from",
  "to",
  "since",
  "until",
  "month",
  "model",
  "format",
  "window",
  "id",
  "read_data",
];

function path(rng: Rng, route: Route, model: string): string {
  if (rng.chance(0.3)) return route.path.replace(/:[A-Za-z]+/g, model);
  let result = route.path.replace(/:[A-Za-z]+/g, () => rng.pick(hostileSegments));
  if (rng.chance(0.1)) result += rng.pick(["/", "/..", "/%2e%2e/admin", "//", "/x"]);
  if (rng.chance(0.3)) {
    const value = rng.pick([
      "-1",
      "NaN",
      "1e309",
      "99999999999999999999",
      "%ff",
      "%00",
      "..%2f",
      "",
      "2026-13",
      "a".repeat(3000),
    ]);
    result += `?${rng.pick(queryNames)}=${value}`;
    if (rng.chance(0.3)) result += `&${rng.pick(queryNames)}=${value}`;
  }
  return result;
}

const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

function headers(rng: Rng): { values: Record<string, string>; description: string } {
  const values: Record<string, string> = {};
  const notes: string[] = [];
  if (rng.chance(0.2)) {
    values["x-priority"] = rng.pick(["urgent", "", "HIGH", "high\u00ff", "1", "low, high"]);
    notes.push(`x-priority ${JSON.stringify(values["x-priority"])}`);
  }
  if (rng.chance(0.1)) {
    values["content-type"] = rng.pick([
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
    ]);
    notes.push(`content-type ${values["content-type"]}`);
  }
  if (rng.chance(0.1)) {
    values["x-request-id"] = rng.pick(["", "a".repeat(2000), "../../x", "\u00ff\u00fe"]);
    notes.push("hostile x-request-id");
  }
  if (rng.chance(0.05)) {
    values["x-filler"] = "f".repeat(20_000);
    notes.push("20 kB header");
  }
  return { values, description: notes.join(", ") };
}

/** Case `index` of the run with `seed`: the same on every run. `model`: the installed model the base bodies name. */
export function fuzzCase(
  seed: number,
  index: number,
  options: { routes: readonly Route[]; model: string },
): FuzzCase {
  const { routes, model } = options;
  const rng = new Rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const route = rng.pick(routes);
  const method = rng.chance(0.8) ? route.method : rng.pick(methods);
  const auth = rng.pick<Auth>(["admin", "admin", "user", "wrong", "none"]);
  const key = `${route.method} ${route.path}`;
  const hasBody = method !== "GET" && method !== "HEAD" && (key in baseBodiesFor(model) || rng.chance(0.5));
  const made = hasBody ? body(rng, key, model) : undefined;
  const wire = path(rng, route, model);
  const extra = headers(rng);
  const isChunked = made !== undefined && rng.chance(0.2);
  const parts = [`${method} ${wire.length > 120 ? `${wire.slice(0, 100)}…` : wire}`, `auth ${auth}`];
  if (made !== undefined) parts.push(made.description);
  if (extra.description !== "") parts.push(extra.description);
  if (isChunked) parts.push("chunked");
  return {
    description: parts.join("; "),
    method,
    path: wire,
    auth,
    headers: extra.values,
    body: made?.bytes,
    isChunked,
    field:
      method === route.method && wire === route.path.replace(/:[A-Za-z]+/g, model) && extra.description === ""
        ? made?.field
        : undefined,
    routeKey: key,
  };
}
