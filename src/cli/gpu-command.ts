/**
 * `rawrxd gpu`: the compute-backend report — every backend of CUDA → HIP → Vulkan → CPU with
 * its reason, device and host memory, and per loaded model its plan (GPU layers, threads,
 * memory estimate vs resident memory). From GET /v1/gpu of the running server; with --local,
 * or when no server answers, from detection on this machine (no loaded models then).
 */
import { z } from "zod";
import { formatBytes } from "../core/index.js";
import { CliError, usageError, type Command } from "./cli-io.js";
import { formatTable } from "./format.js";
import { connectionOptions } from "./help-text.js";
import {
  clientSettingKeys,
  configFromFlags,
  parseCommandArgs,
  settingsFlagOptions,
} from "./parse-command-args.js";
import { createServerClient } from "./server-client.js";
import { parseWire } from "./wire-schemas.js";

const gpuRequests = ["auto", "cuda", "vulkan", "cpu"] as const;
type GpuRequest = (typeof gpuRequests)[number];

const nullableNumber = z.number().nullable();

export const gpuResponse = z.object({
  requested: z.string(),
  chosen: z.string(),
  reason: z.string(),
  platform: z.string().optional(),
  candidates: z.array(
    z.object({
      backend: z.string(),
      usable: z.boolean(),
      served_by: z.string().nullable().optional(),
      reason: z.string(),
      evidence: z.array(z.string()).optional(),
    }),
  ),
  devices: z.array(
    z.object({
      backend: z.string(),
      name: z.string(),
      total_bytes: nullableNumber,
      free_bytes: nullableNumber,
      unified_memory: z.boolean(),
    }),
  ),
  memory: z.object({
    host: z.object({
      total_bytes: z.number(),
      available_bytes: z.number(),
      swap_total_bytes: z.number().optional(),
    }),
    unified: z
      .object({ cuda_unified_memory: z.boolean(), integrated_devices: z.array(z.string()) })
      .optional(),
  }),
  engine: z.object({ packages: z.array(z.string()), local_builds: z.array(z.string()) }).optional(),
  models: z.array(
    z.object({
      model: z.string(),
      backend: z.string().optional(),
      gpu_layers: z.number().optional(),
      total_layers: z.number().optional(),
      threads: z.number().optional(),
      batch_threads: z.number().optional(),
      threads_source: z.string().optional(),
      estimate: z.object({ total_bytes: z.number(), resident_bytes: z.number() }).optional(),
      measured_at_load: z.object({ model_resident_bytes: z.number() }).nullable().optional(),
      resident_bytes: nullableNumber.optional(),
    }),
  ),
});
export type GpuResponse = z.infer<typeof gpuResponse>;

export const gpuUsage = `Usage: rawrxd gpu [options]

Show which compute backend RawrXD uses and why: CUDA, HIP (served through Vulkan), Vulkan
and CPU, each with the reason it is or is not usable; device and host memory; and for each
loaded model its GPU layers, threads, and memory estimate against the runner's resident memory.
Asks the running server (GET /v1/gpu); without one, detects on this machine.

Options:
  --local               Detect on this machine without asking the server
  --gpu BACKEND         With --local: check what --gpu auto|cuda|vulkan|cpu would do
  --json                Print the raw JSON report
  -h, --help            Show this help

${connectionOptions}
`;

export interface GpuCommandOptions {
  /** Detection on this machine; default: src/app's localGpuReport, imported on demand. */
  localReport?: (requested: GpuRequest) => Promise<unknown>;
}

async function defaultLocalReport(requested: GpuRequest): Promise<unknown> {
  const app = await import("../app/index.js");
  return app.localGpuReport(requested);
}

export function createGpuCommand(options: GpuCommandOptions = {}): Command {
  const localReport = options.localReport ?? defaultLocalReport;
  return {
    name: "gpu",
    usage: () => gpuUsage,
    async run(args, context) {
      const { values } = parseCommandArgs("gpu", args, {
        flags: {
          ...settingsFlagOptions(clientSettingKeys),
          local: { type: "boolean" },
          json: { type: "boolean" },
          gpu: { type: "string" },
        },
        minPositionals: 0,
        maxPositionals: 0,
      });
      const requested = values["gpu"] ?? "auto";
      if (typeof requested !== "string" || !(gpuRequests as readonly string[]).includes(requested)) {
        throw usageError("gpu", `--gpu takes one of ${gpuRequests.join(", ")}.`);
      }
      let raw: unknown;
      let source: string;
      if (values["local"] === true || values["gpu"] !== undefined) {
        raw = await localReport(requested as GpuRequest);
        source = "detected on this machine (--local)";
      } else {
        const config = configFromFlags("gpu", values, { keys: clientSettingKeys, io: context.io });
        const client = createServerClient(config, context.io.env);
        try {
          raw = await client.requestJson("GET", "/v1/gpu");
          source = `from the server at ${client.baseUrl}`;
        } catch (error) {
          if (!(error instanceof CliError) || !error.message.startsWith("Cannot reach")) throw error;
          raw = await localReport("auto");
          source = `detected on this machine: no server at ${client.baseUrl}, so no loaded models`;
        }
      }
      if (values["json"] === true) {
        context.io.stdout.write(JSON.stringify(raw, null, 2) + "\n");
        return 0;
      }
      context.io.stdout.write(formatGpuReport(parseWire(gpuResponse, raw, "GET /v1/gpu"), source));
      return 0;
    },
  };
}

export const gpuCommand = createGpuCommand();

/** The text `rawrxd gpu` prints. Figures only: no speedup is ever claimed. */
export function formatGpuReport(report: GpuResponse, source: string): string {
  const lines: string[] = [`Compute backend: ${report.chosen}  (${report.reason})`, `Report ${source}.`, ""];
  lines.push(
    formatTable(
      ["BACKEND", "USABLE", "REASON"],
      report.candidates.map((candidate) => [
        candidate.backend,
        candidate.usable ? "yes" : candidate.served_by ? `via ${candidate.served_by}` : "no",
        candidate.reason,
      ]),
    ),
  );
  const host = report.memory.host;
  lines.push("Memory");
  lines.push(
    `  host RAM   ${formatBytes(host.total_bytes)} total, ${formatBytes(host.available_bytes)} available${host.swap_total_bytes ? `, swap ${formatBytes(host.swap_total_bytes)}` : ", no swap"}`,
  );
  if (report.devices.length === 0) lines.push("  devices    none");
  for (const device of report.devices) {
    const memory =
      device.total_bytes === null
        ? "memory unknown"
        : `${formatBytes(device.total_bytes)} total${device.free_bytes === null ? "" : `, ${formatBytes(device.free_bytes)} free`}`;
    lines.push(
      `  ${device.backend.padEnd(10)} ${device.name}: ${memory}${device.unified_memory ? " (unified: shares host RAM)" : ""}`,
    );
  }
  const unified = report.memory.unified;
  if (unified !== undefined) {
    lines.push(
      `  unified    CUDA unified memory ${unified.cuda_unified_memory ? "on (GGML_CUDA_ENABLE_UNIFIED_MEMORY=1)" : "off"}; integrated GPUs: ${unified.integrated_devices.length > 0 ? unified.integrated_devices.join(", ") : "none"}`,
    );
  }
  if (report.engine !== undefined) {
    lines.push(
      `Engine builds: ${report.engine.packages.join(", ") || "none"}; local builds: ${report.engine.local_builds.join(", ") || "none"}`,
    );
  }
  lines.push("");
  if (report.models.length === 0) {
    lines.push("No model loaded.");
  } else {
    lines.push(
      formatTable(
        [
          "MODEL",
          "BACKEND",
          "GPU LAYERS",
          "THREADS",
          "ESTIMATE",
          "EST. RESIDENT",
          "RESIDENT AT LOAD",
          "RESIDENT NOW",
        ],
        report.models.map((model) => [
          model.model,
          model.backend ?? "",
          model.gpu_layers === undefined ? "" : `${model.gpu_layers}/${model.total_layers ?? "?"}`,
          model.threads === undefined
            ? ""
            : `${model.threads}${model.batch_threads !== undefined && model.batch_threads !== model.threads ? `, prompt ${model.batch_threads}` : ""} (${model.threads_source ?? "?"})`,
          model.estimate === undefined ? "" : formatBytes(model.estimate.total_bytes),
          model.estimate === undefined ? "" : formatBytes(model.estimate.resident_bytes),
          model.measured_at_load ? `+${formatBytes(model.measured_at_load.model_resident_bytes)}` : "",
          model.resident_bytes === undefined || model.resident_bytes === null
            ? ""
            : formatBytes(model.resident_bytes),
        ]),
      ).trimEnd(),
    );
  }
  return lines.join("\n") + "\n";
}
