import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../core/index.js";
import { createGpuCommand } from "./gpu-command.js";
import { main } from "./index.js";
import { createRecordingIo } from "./test-io.testing.js";

const gib = 1024 ** 3;

/** A /v1/gpu body as the server sends it: a CUDA machine with one model loaded. */
const serverReport = {
  requested: "auto",
  chosen: "cuda",
  reason: "auto: CUDA is first in the chain and usable",
  platform: "linux-x64",
  candidates: [
    {
      backend: "cuda",
      usable: true,
      served_by: null,
      reason: "cuda: usable: 1 × NVIDIA L4",
      evidence: ["devices /dev/nvidia0"],
    },
    {
      backend: "hip",
      usable: false,
      served_by: null,
      reason: "hip: no AMD ROCm device (/dev/kfd) found",
      evidence: [],
    },
    {
      backend: "vulkan",
      usable: false,
      served_by: null,
      reason: "vulkan: NVIDIA L4; engine build not probed (cuda comes first)",
      evidence: [],
    },
    {
      backend: "cpu",
      usable: true,
      served_by: null,
      reason:
        "cpu: always available (engine build @node-llama-cpp/linux-x64, 20.0 GiB of 31.0 GiB RAM available)",
      evidence: [],
    },
  ],
  devices: [
    {
      backend: "cuda",
      index: 0,
      name: "NVIDIA L4",
      vendor: "nvidia",
      total_bytes: 24 * gib,
      free_bytes: 22 * gib,
      unified_memory: false,
      source: "nvidia-smi",
    },
  ],
  memory: {
    host: { total_bytes: 31 * gib, available_bytes: 20 * gib, swap_total_bytes: 0 },
    unified: { cuda_unified_memory: false, integrated_devices: [] },
  },
  engine: { packages: ["linux-x64", "linux-x64-cuda"], local_builds: [] },
  models: [
    {
      model: "llama3",
      pid: 4242,
      backend: "cuda",
      gpu_layers: 33,
      total_layers: 33,
      threads: 4,
      threads_source: "cached",
      estimate: { total_bytes: 5_000_000_000, resident_bytes: 400_000_000 },
      measured_at_load: { model_resident_bytes: 390_000_000 },
      resident_bytes: 520_000_000,
    },
  ],
};

/** What local detection answers on a machine without a GPU. */
const localCpuReport = {
  ...serverReport,
  chosen: "cpu",
  reason: "auto: no GPU backend is usable; running on the CPU",
  candidates: [
    {
      backend: "cuda",
      usable: false,
      served_by: null,
      reason:
        "cuda: no NVIDIA GPU found (no /dev/nvidia* device, no nvidia-smi) and no NVIDIA driver (libcuda.so.1)",
    },
    { backend: "hip", usable: false, served_by: null, reason: "hip: no AMD ROCm device (/dev/kfd) found" },
    {
      backend: "vulkan",
      usable: false,
      served_by: null,
      reason: "vulkan: no GPU render node (/dev/dri/renderD*) found",
    },
    { backend: "cpu", usable: true, served_by: null, reason: "cpu: always available" },
  ],
  devices: [],
  models: [],
};

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === "/v1/gpu")
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(serverReport));
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(
  args: string[],
  options: { env?: Record<string, string>; local?: (requested: string) => Promise<unknown> } = {},
) {
  const io = createRecordingIo({ env: options.env ?? { RAWRXD_URL: url } });
  const asked: string[] = [];
  const command = createGpuCommand({
    localReport: async (requested) => {
      asked.push(requested);
      return (options.local ?? (async () => localCpuReport))(requested);
    },
  });
  const code = await command.run(args, { io, dependencies: {} }).catch((error: unknown) => {
    io.stderr.write(String((error as Error).message));
    return (error as { exitCode?: number }).exitCode ?? 1;
  });
  return { code, output: io.output(), errors: io.errors(), asked };
}

describe("rawrxd gpu", () => {
  it("prints the server's report: backend chosen, every backend's reason, memory, and each model's plan", async () => {
    const { code, output, asked } = await run([]);
    expect(code).toBe(0);
    expect(asked).toEqual([]);
    expect(output).toContain("Compute backend: cuda  (auto: CUDA is first in the chain and usable)");
    expect(output).toContain(`Report from the server at ${url}.`);
    expect(output).toMatch(/^hip +no +hip: no AMD ROCm device \(\/dev\/kfd\) found$/m);
    expect(output).toMatch(/^ {2}cuda +NVIDIA L4: 24\.0 GiB total, 22\.0 GiB free$/m);
    expect(output).toMatch(/^llama3 +cuda +33\/33 +4 \(cached\) +4\.7 GiB +381 MiB +\+372 MiB +496 MiB$/m);
    expect(output).not.toMatch(/speedup|faster/i);
    // One unit system (issue #10): IEC sizes only, never decimal kB/MB/GB.
    expect(output).toMatch(/\d GiB/);
    expect(output).not.toMatch(/\d (kB|KB|MB|GB|TB)\b/);
  });

  it("without a server, detects on this machine and says there are no loaded models", async () => {
    const { code, output, asked } = await run([], { env: { RAWRXD_URL: "http://127.0.0.1:9" } });
    expect(code).toBe(0);
    expect(asked).toEqual(["auto"]);
    expect(output).toContain("Compute backend: cpu  (auto: no GPU backend is usable; running on the CPU)");
    expect(output).toContain("no server at http://127.0.0.1:9, so no loaded models");
    expect(output).toMatch(/^vulkan +no +vulkan: no GPU render node/m);
    expect(output).toContain("No model loaded.");
  });

  it("--local --gpu cuda on a machine without CUDA fails with detection's message", async () => {
    const { code, errors, asked } = await run(["--local", "--gpu", "cuda"], {
      local: async () => {
        throw new AppError(
          "bad-request",
          "--gpu cuda was asked for, but CUDA is not usable on this machine: cuda: no NVIDIA GPU found.",
        );
      },
    });
    expect(asked).toEqual(["cuda"]);
    expect(code).toBe(1);
    expect(errors).toContain("--gpu cuda was asked for, but CUDA is not usable");
  });

  it("--json prints the raw report; a bad --gpu is a usage error", async () => {
    const json = await run(["--json"]);
    expect(JSON.parse(json.output)).toEqual(serverReport);
    const bad = await run(["--gpu", "metal"]);
    expect(bad.code).toBe(2);
    expect(bad.errors).toContain("--gpu takes one of auto, cuda, vulkan, cpu");
  });

  it("is registered with the command line", async () => {
    const io = createRecordingIo();
    expect(await main(["gpu", "--help"], io)).toBe(0);
    expect(io.output()).toContain("Usage: rawrxd gpu [options]");
  });
});
