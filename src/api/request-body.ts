/**
 * Reads and validates a JSON request body at the API edge: the size bound, JSON syntax, then
 * a zod schema. Every failure is an AppError naming the field and what was expected.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../core/index.js";
import { maxJsonDepth, pathBeyondDepth } from "./json-depth.js";
import { BodyTooLarge, readBodyText } from "./node-request.js";

export async function readJson<Schema extends z.ZodType>(
  context: Context,
  schema: Schema,
  maxBytes: number,
): Promise<z.infer<Schema>> {
  const declared = Number(context.req.header("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(declared, maxBytes);
  let text: string;
  try {
    text = await readBodyText(context, maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw tooLarge(error.bytes, maxBytes, "at least ");
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("bad-request", `The request body is not valid JSON: ${reason}.`);
  }
  const tooDeep = pathBeyondDepth(parsed);
  if (tooDeep !== undefined) {
    const field = tooDeep.length === 0 || Array.isArray(parsed) ? undefined : String(tooDeep[0]);
    throw new AppError(
      "bad-request",
      `Invalid request: ${field === undefined ? "body" : `"${field}"`}: nested more than ${maxJsonDepth} levels deep; no request needs that many (JSON schemas and tool parameters nest a dozen at most).`,
      field === undefined ? {} : { param: field },
    );
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map(String).join(".");
    throw new AppError(
      "bad-request",
      `Invalid request: ${path === "" ? "body" : `"${path}"`}: ${issue.message}.`,
      {
        ...(path === "" ? {} : { param: path }),
      },
    );
  }
  return result.data;
}

function tooLarge(bytes: number, maxBytes: number, qualifier = ""): AppError {
  return new AppError(
    "body-too-large",
    `The request body is ${qualifier}${bytes} bytes; the limit is ${maxBytes} (--max-body-bytes).`,
  );
}
