/** Request fields shared by both dialects. */
import { z } from "zod";
import { AppError, priorities, type Priority } from "../core/index.js";

export const prioritySchema = z.enum(priorities);

/** Body field wins over the X-Priority header; default normal. */
export function resolvePriority(bodyValue: Priority | undefined, header: string | undefined): Priority {
  if (bodyValue !== undefined) return bodyValue;
  if (header === undefined || header === "") return "normal";
  const value = header.trim().toLowerCase();
  if ((priorities as readonly string[]).includes(value)) return value as Priority;
  throw new AppError("bad-request", `Invalid X-Priority header "${header}": expected high, normal or low.`, {
    param: "priority",
  });
}

export const finiteNumber = z.number().refine(Number.isFinite, "expected a finite number");

export function maxTokensSchema(limit: number) {
  return z
    .number()
    .int("expected an integer")
    .min(1, "must be at least 1")
    .max(limit, `must be at most ${limit} (the server's --max-tokens-limit)`);
}

export const stopSchema = z
  .union([z.string(), z.array(z.string()).max(16, "at most 16 stop strings")])
  .optional();

export function toStopList(stop: string | string[] | undefined | null): string[] {
  if (stop === undefined || stop === null) return [];
  return (Array.isArray(stop) ? stop : [stop]).filter((item) => item.length > 0);
}

export const jsonSchemaObject = z.record(z.string(), z.unknown());
