/**
 * A strict parser of the Prometheus text exposition format (0.0.4) for the metrics tests: it
 * throws on anything a Prometheus server would reject (bad names, label syntax, values,
 * samples before their TYPE, duplicate series) and checks histogram invariants.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string | undefined;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (match === null) return;
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      if (!metricName.test(name)) throw new Error(`bad metric name, ${where}`);
      const family = families.get(name) ?? { name, type: "untyped" as const, help: undefined, samples: [] };
      if (kind === "TYPE") {
        if (!types.has(rest)) throw new Error(`bad type, ${where}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples, ${where}`);
        family.type = rest as Family["type"];
      } else {
        family.help = rest;
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (family === undefined) throw new Error(`sample without a TYPE, ${where}`);
    const series = sample.name + JSON.stringify(Object.entries(sample.labels).sort());
    if (seriesSeen.has(series)) throw new Error(`duplicate series, ${where}`);
    seriesSeen.add(series);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family?.type === "histogram" || family?.type === "summary") return family;
  }
  return undefined;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (nameMatch === null) throw new Error(`bad sample name, ${where}`);
  const name = nameMatch[1]!;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    let position = 1;
    while (rest[position] !== "}") {
      const labelMatch = /^([^=\s]+)="/.exec(rest.slice(position));
      if (labelMatch === null || !labelName.test(labelMatch[1]!)) throw new Error(`bad label, ${where}`);
      position += labelMatch[0].length;
      let value = "";
      for (;;) {
        const char = rest[position];
        if (char === undefined) throw new Error(`unterminated label value, ${where}`);
        if (char === "\\") {
          const escaped = rest[position + 1];
          if (escaped === "n") value += "\n";
          else if (escaped === "\\" || escaped === '"') value += escaped;
          else throw new Error(`bad escape, ${where}`);
          position += 2;
          continue;
        }
        position += 1;
        if (char === '"') break;
        value += char;
      }
      if (labelMatch[1]! in labels) throw new Error(`duplicate label, ${where}`);
      labels[labelMatch[1]!] = value;
      if (rest[position] === ",") position += 1;
      else if (rest[position] !== "}") throw new Error(`expected , or }, ${where}`);
    }
    rest = rest.slice(position + 1);
  }
  const valueMatch = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (valueMatch === null) throw new Error(`bad value part, ${where}`);
  const raw = valueMatch[1]!;
  const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
  if (Number.isNaN(value) && raw !== "NaN") throw new Error(`bad value, ${where}`);
  return { name, labels, value };
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      group.buckets.push([le === "+Inf" ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith("_count")) group.count = sample.value;
    else if (sample.name.endsWith("_sum")) group.sum = sample.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let index = 1; index < sorted.length; index++) {
      if (sorted[index]![1] < sorted[index - 1]![1])
        throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    if (group.count !== sorted.at(-1)![1])
      throw new Error(`${family.name}${key}: _count ${group.count} != +Inf bucket ${sorted.at(-1)![1]}`);
    if (group.sum === undefined) throw new Error(`${family.name}${key}: no _sum`);
  }
}

/** The value of one sample, by name and exact labels (0 when absent). */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): number {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      const keys = Object.keys(sample.labels);
      if (
        keys.length === Object.keys(labels).length &&
        keys.every((key) => sample.labels[key] === labels[key])
      )
        return sample.value;
    }
  }
  return 0;
}
