/**
 * Reads and validates a JSON request body at the API edge: the size bound, JSON syntax, then
 * a zod schema. Every failure is an AppError naming the field and what was expected.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../core/index.js";

export async function readJson<Schema extends z.ZodType>(context: Context, schema: Schema, maxBytes: number): Promise<z.infer<Schema>> {
  const declared = Number(context.req.header("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(declared, maxBytes);
  const bytes = await context.req.arrayBuffer();
  if (bytes.byteLength > maxBytes) throw tooLarge(bytes.byteLength, maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("bad-request", `The request body is not valid JSON: ${reason}.`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map(String).join(".");
    throw new AppError("bad-request", `Invalid request: ${path === "" ? "body" : `"${path}"`}: ${issue.message}.`, {
      ...(path === "" ? {} : { param: path }),
    });
  }
  return result.data;
}

function tooLarge(bytes: number, maxBytes: number): AppError {
  return new AppError("body-too-large", `The request body is ${bytes} bytes; the limit is ${maxBytes} (--max-body-bytes).`);
}
