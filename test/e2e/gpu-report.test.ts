/**
 * GPU detection through the real server (FakeEngine for models): GET /v1/gpu and `rawrxd gpu`
 * on this machine for real, an injected CUDA machine, `--gpu cuda` failing loudly at startup,
 * and the offload plan feeding the scheduler's memory admission.
 */
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/app/index.js";
import { main } from "../../src/cli/index.js";
import { createRecordingIo } from "../../src/cli/test-io.testing.js";
import { loadConfig } from "../../src/config/index.js";
import { AppError, silentLogger } from "../../src/core/index.js";
import { FakeEngine, type InferenceEngine, type LoadSpec } from "../../src/engine/index.js";
import { fakeProbes, type GpuProbes } from "../../src/gpu/index.js";
import { baseFlags, hasGpuDeviceFiles, makeHome, postJson, type Json } from "./helpers.js";

interface ReportBody {
  chosen: string;
  reason: string;
  candidates: { backend: string; usable: boolean; reason: string }[];
  memory: { host: { total_bytes: number } };
}

const gib = 1024 ** 3;
const cudaMachine = fakeProbes({
  files: { "/dev/nvidia0": "" },
  libraries: { "libcuda.so.1": "/usr/lib/x86_64-linux-gnu/libcuda.so.1" },
  tools: { "nvidia-smi": "0, NVIDIA L4, 23034, 22000, 550.54.15\n" },
  packages: ["linux-x64", "linux-x64-cuda", "linux-x64-cuda-ext"],
  host: { totalBytes: 32 * gib, availableBytes: 24 * gib, swapTotalBytes: 0 },
});
const cpuMachine = fakeProbes({ packages: ["linux-x64", "linux-x64-cuda", "linux-x64-vulkan"] });

interface Started {
  server: RunningServer;
  specs: LoadSpec[];
  home: string;
}

const started: Started[] = [];
afterEach(async () => {
  for (const { server, home } of started.splice(0)) {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
});

async function start(options: { probes?: GpuProbes; flags?: Record<string, string> } = {}): Promise<Started> {
  const { home, modelsDir } = makeHome(["alpha"]);
  const fake = new FakeEngine({ alpha: {} });
  const specs: LoadSpec[] = [];
  const engine: InferenceEngine = { load: (spec, signal) => (specs.push(spec), fake.load(spec, signal)) };
  const config = loadConfig({
    flags: { ...baseFlags(home, modelsDir), ...options.flags },
    env: {},
    readConfigFile: false,
  });
  try {
    const server = await startServer(config, {
      engine,
      logger: silentLogger,
      handleSignals: false,
      ...(options.probes === undefined ? {} : { gpuProbes: options.probes }),
    });
    const entry = { server, specs, home };
    started.push(entry);
    return entry;
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

async function complete(url: string): Promise<Response> {
  return postJson(`${url}/v1/completions`, { model: "alpha", prompt: "hello", max_tokens: 3 });
}

describe("GET /v1/gpu and rawrxd gpu", () => {
  it("on this machine, for real: the chosen backend and every other backend with its reason", async () => {
    const { server } = await start();
    const body = (await (await fetch(`${server.url}/v1/gpu`)).json()) as ReportBody;
    expect(body.candidates.map((candidate) => candidate.backend)).toEqual(["cuda", "hip", "vulkan", "cpu"]);
    for (const candidate of body.candidates)
      expect(candidate.reason).toMatch(new RegExp(`^${candidate.backend}: .+`));
    expect(body.memory.host.total_bytes).toBeGreaterThan(0);
    const hasGpuDevice = hasGpuDeviceFiles();
    if (!hasGpuDevice) {
      // The CPU-only CI and development machines.
      expect(body.chosen).toBe("cpu");
      expect(body.reason).toBe("auto: no GPU backend is usable; running on the CPU");
      expect(
        body.candidates.filter((candidate) => candidate.usable).map((candidate) => candidate.backend),
      ).toEqual(["cpu"]);
    }
    const io = createRecordingIo({ env: { RAWRXD_URL: server.url } });
    expect(await main(["gpu"], io)).toBe(0);
    const output = io.output();
    expect(output).toContain(`Compute backend: ${body.chosen}  (${body.reason})`);
    for (const candidate of body.candidates) expect(output).toContain(candidate.reason);
    expect(output).not.toMatch(/speedup/i);
  });

  it("an injected CUDA machine: cuda is chosen, loads run on it with the operator's tuning, and the report lists the device", async () => {
    const { server, specs, home } = await start({ probes: cudaMachine, flags: { "gpu-layers": "20" } });
    expect((await complete(server.url)).status).toBe(200);
    expect(specs[0]).toMatchObject({
      gpu: "cuda",
      threads: 0,
      tuning: { requestedGpu: "auto", gpuLayers: 20, gpuMarginBytes: -1, cacheDirectory: `${home}/cache` },
    });
    const body = (await (await fetch(`${server.url}/v1/gpu`)).json()) as Json;
    expect(body).toMatchObject({ chosen: "cuda", reason: "auto: CUDA is first in the chain and usable" });
    expect(body.devices).toEqual([
      {
        backend: "cuda",
        index: 0,
        name: "NVIDIA L4",
        vendor: "nvidia",
        total_bytes: 23034 * 1024 ** 2,
        free_bytes: 22000 * 1024 ** 2,
        unified_memory: false,
        source: "nvidia-smi",
      },
    ]);
    // FakeEngine has no plan: the model is listed without one.
    expect(body.models).toEqual([{ model: "alpha", pid: null, plan: null, resident_bytes: null }]);
  });

  it("needs the API key like every other route when keys are set", async () => {
    const { server } = await start({ probes: cpuMachine, flags: { "api-keys": "secret" } });
    expect((await fetch(`${server.url}/v1/gpu`)).status).toBe(401);
    expect(
      (await fetch(`${server.url}/v1/gpu`, { headers: { authorization: "Bearer secret" } })).status,
    ).toBe(200);
  });

  it("--gpu cuda on a machine without CUDA stops startup with a clear message", async () => {
    const error = await start({ probes: cpuMachine, flags: { gpu: "cuda" } }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(
      /^--gpu cuda was asked for, but CUDA is not usable on this machine: cuda: no NVIDIA GPU found .*\. Use --gpu auto \(it would pick cpu\) or --gpu cpu\.$/,
    );
  });
});

describe("memory admission uses the offload plan", () => {
  // stories260K with 4 × 2048-token sequences: about 16 MiB all on the host, under 9 MiB on the host when offloaded.
  const budget = { "memory-budget": "12MiB" };

  it("on the CPU the whole model counts against the RAM budget", async () => {
    const { server } = await start({ probes: cpuMachine, flags: budget });
    const response = await complete(server.url);
    expect(response.status).toBe(500);
    expect(((await response.json()) as Json).error.message).toMatch(
      /^Model "alpha" needs about 1\d\.\d MiB .* but the memory budget is 12\.0 MiB/,
    );
  });

  it("fully offloaded to a GPU only the host part counts", async () => {
    const { server } = await start({ probes: cudaMachine, flags: budget });
    expect((await complete(server.url)).status).toBe(200);
  });
});
