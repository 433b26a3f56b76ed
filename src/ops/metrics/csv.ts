/**
 * RFC 4180 CSV: CRLF line ends, a header row, fields quoted when they hold a comma, quote, CR
 * or LF, quotes doubled. Text that a spreadsheet would run as a formula (= + - @ at the start)
 * gets a leading apostrophe (OWASP CSV injection); numbers are written as they are.
 */
export type CsvValue = string | number | null | undefined;

const formulaStart = /^[=+\-@\t\r]/;

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header.map(formatField), ...rows.map((row) => row.map(formatField))];
  return lines.map((fields) => fields.join(",")).join("\r\n") + "\r\n";
}

function formatField(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "";
    text = String(value);
  } else {
    text = formulaStart.test(value) ? `'${value}` : value;
  }
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Parses RFC 4180 text into rows of fields (the header is the first row). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let index = 0;
  let isQuoted = false;
  while (index < text.length) {
    const char = text[index]!;
    if (isQuoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 2;
        continue;
      }
      if (char === '"') isQuoted = false;
      else field += char;
      index += 1;
      continue;
    }
    if (char === '"' && field === "") {
      isQuoted = true;
    } else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\r" && text[index + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      index += 1;
    } else if (char === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else {
      field += char;
    }
    index += 1;
  }
  if (isQuoted) throw new Error("CSV ends inside a quoted field");
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
