/** `rawrxd serve --help` and the README's settings table, both generated from the settings table. */
import { settings, type Setting } from "./settings.js";

interface Row {
  flag: string;
  env: string;
  defaultText: string;
  description: string;
  aliases: readonly string[];
}

function rows(): Row[] {
  return Object.values(settings).map((value) => {
    const setting = value as Setting<unknown>;
    return {
      flag: setting.flag + (setting.isSwitch === true ? "" : " VALUE"),
      env: setting.env,
      defaultText: setting.defaultText,
      description: setting.description,
      aliases: setting.aliases ?? [],
    };
  });
}

/** Help text, or a Markdown table laid out as prettier lays it out (so `format:check` keeps it). */
export function describeSettings(format: "help" | "markdown"): string {
  if (format === "markdown") {
    return markdownTable(
      ["flag", "env", "default", "meaning"],
      rows().map((row) => [
        `\`${row.flag}\``,
        `\`${row.env}\``,
        row.defaultText,
        row.description +
          (row.aliases.length === 0 ? "" : ` Also ${row.aliases.map((alias) => `\`${alias}\``).join(", ")}.`),
      ]),
    );
  }
  return rows()
    .map((row) => {
      const also = row.aliases.length === 0 ? "" : `, also ${row.aliases.join(", ")}`;
      return (
        `  ${row.flag.padEnd(28)} ${row.description}\n` +
        `  ${"".padEnd(28)} env ${row.env}, default ${row.defaultText}${also}`
      );
    })
    .join("\n");
}

function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...body.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}
