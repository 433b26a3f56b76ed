/** Value parsers for the settings table. Each throws a message naming the expected form. */

export type Parser<T> = (raw: string) => T;

export const parseString: Parser<string> = (raw) => {
  if (raw.length === 0) throw new Error("expected a non-empty string");
  return raw;
};

export function parseInteger(min: number, max: number): Parser<number> {
  return (raw) => {
    const value = Number(raw.trim());
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected an integer from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };
}

export const parseBoolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
};

export function parseEnum<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new Error(`expected one of ${values.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  };
}

export const parseList: Parser<string[]> = (raw) =>
  raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Durations as Ollama's keep_alive takes them: "300ms", "30s", "5m", "1h", "1h30m", or a
 * bare number of seconds. Negative means "forever" and parses to -1.
 */
export const parseDurationMs: Parser<number> = (raw) => {
  const text = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) {
    const seconds = Number(text);
    return seconds < 0 ? -1 : Math.round(seconds * 1000);
  }
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const parts = [...body.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== body) {
    throw new Error(`expected a duration such as 30s, 5m or 1h, got "${raw}"`);
  }
  if (negative) return -1;
  return Math.round(parts.reduce((sum, part) => sum + Number(part[1]) * (durationUnitsMs[part[2]!] ?? 0), 0));
};

const sizeUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "auto" (→ -1), a byte count, or a size such as 512MiB, 8GiB, 2.5GB. */
export const parseByteSize: Parser<number> = (raw) => {
  const text = raw.trim().toLowerCase();
  if (text === "auto") return -1;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text);
  const unit = sizeUnits[match?.[2] === "" ? "b" : (match?.[2] ?? "")];
  if (match === null || unit === undefined)
    throw new Error(`expected "auto" or a size such as 512MiB or 8GiB, got "${raw}"`);
  return Math.round(Number(match[1]) * unit);
};

/**
 * "" (none) or a postgres:// (postgresql://) connection URL with a host. The message never
 * repeats the value: it may hold a password.
 */
export const parsePostgresUrl: Parser<string> = (raw) => {
  const text = raw.trim();
  if (text === "") return "";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("expected a URL such as postgres://user:password@host:5432/rawrxd");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
    throw new Error("expected a postgres:// or postgresql:// URL");
  if (url.hostname === "") throw new Error("expected a host in the postgres:// URL");
  return text;
};
