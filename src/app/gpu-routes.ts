/**
 * GET /v1/gpu: the detection report (every backend with its reason, devices and memory, host
 * and unified memory) and, per loaded model, the plan its runner runs with — backend, GPU
 * layers, threads, memory estimate — next to the runner's resident memory read now.
 */
import { Hono } from "hono";
import { systemTime, type TimePort } from "../core/index.js";
import {
  detectGpu,
  readResidentMemory,
  systemProbes,
  type GpuProbes,
  type GpuReport,
  type GpuRequest,
  type ModelPlanReport,
} from "../gpu/index.js";
import type { LoadedModelView } from "../scheduler/index.js";

/** Detection results stay this long; the engine probe runs once per process (see memoizeEngineProbe). */
const reportTtlMs = 2_000;

export interface GpuService {
  readonly requested: GpuRequest;
  /** The report from startup; `current()` refreshes memory figures. */
  readonly initial: GpuReport;
  current(): Promise<GpuReport>;
}

/** Detects once (failing loudly when --gpu names an unusable backend) and serves refreshed reports. */
export async function startGpuService(
  requested: GpuRequest,
  probes: GpuProbes,
  time: TimePort = systemTime,
): Promise<GpuService> {
  const memoized = memoizeEngineProbe(probes);
  const initial = await detectGpu({ requested, probes: memoized, time });
  let cached = { report: initial, atMs: time.monotonicNow() };
  return {
    requested,
    initial,
    async current() {
      if (time.monotonicNow() - cached.atMs > reportTtlMs)
        cached = {
          report: await detectGpu({ requested, probes: memoized, time }),
          atMs: time.monotonicNow(),
        };
      return cached.report;
    },
  };
}

/** Loading an engine build in a child takes a second or more: once per backend is enough. */
function memoizeEngineProbe(probes: GpuProbes): GpuProbes {
  const results = new Map<string, ReturnType<GpuProbes["probeEngine"]>>();
  return {
    ...probes,
    probeEngine: (backend) => {
      let result = results.get(backend);
      if (result === undefined) {
        result = probes.probeEngine(backend);
        results.set(backend, result);
      }
      return result;
    },
  };
}

export function createGpuRoutes(options: { gpu: GpuService; loadedModels: () => LoadedModelView[] }): Hono {
  const routes = new Hono();
  routes.get("/v1/gpu", async (context) =>
    context.json(await gpuReportBody(await options.gpu.current(), options.loadedModels())),
  );
  return routes;
}

/** The wire shape of GET /v1/gpu (snake_case, like the other native routes); `rawrxd gpu` prints it. */
export async function gpuReportBody(report: GpuReport, models: readonly LoadedModelView[]) {
  return {
    requested: report.requested,
    chosen: report.chosen,
    reason: report.reason,
    platform: report.platform,
    detected_at: report.detectedAt,
    detect_ms: report.detectMs,
    candidates: report.candidates.map((candidate) => ({
      backend: candidate.backend,
      usable: candidate.isUsable,
      hardware: candidate.hasHardware,
      driver: candidate.hasDriver,
      engine_build: candidate.hasEngineBuild,
      probe: candidate.probe,
      served_by: candidate.servedBy ?? null,
      reason: candidate.reason,
      evidence: candidate.evidence,
    })),
    devices: report.devices.map((device) => ({
      backend: device.backend,
      index: device.index,
      name: device.name,
      vendor: device.vendor,
      total_bytes: device.totalBytes ?? null,
      free_bytes: device.freeBytes ?? null,
      unified_memory: device.isUnifiedMemory,
      source: device.source,
    })),
    memory: {
      host: {
        total_bytes: report.host.totalBytes,
        available_bytes: report.host.availableBytes,
        swap_total_bytes: report.host.swapTotalBytes,
      },
      unified: {
        cuda_unified_memory: report.unifiedMemory.isCudaUnifiedMemoryEnabled,
        integrated_devices: report.unifiedMemory.integratedDevices,
      },
    },
    engine: { packages: report.engine.packages, local_builds: report.engine.localBuilds },
    models: await Promise.all(
      models.map(async (model) => modelBody(model.name, model.info.pid, model.info.plan)),
    ),
  };
}

async function modelBody(name: string, pid: number | undefined, plan: ModelPlanReport | undefined) {
  const now = pid === undefined ? undefined : await readResidentMemory(pid);
  if (plan === undefined)
    return { model: name, pid: pid ?? null, plan: null, resident_bytes: now?.residentBytes ?? null };
  return {
    model: name,
    pid: pid ?? null,
    backend: plan.backend,
    engine_build: plan.engineBuild,
    gpu_layers: plan.gpuLayers,
    total_layers: plan.totalLayers,
    offload: plan.offload,
    reason: plan.reason,
    warning: plan.warning ?? null,
    threads: plan.threads.threads,
    batch_threads: plan.threads.batchThreads,
    threads_source: plan.threads.source,
    threads_detail: plan.threads.detail,
    thread_samples: plan.threads.samples.map((sample) => ({
      threads: sample.threads,
      tokens_per_second: sample.tokensPerSecond,
    })),
    batch_thread_samples: plan.threads.batchSamples.map((sample) => ({
      threads: sample.threads,
      tokens_per_second: sample.tokensPerSecond,
    })),
    context_tokens: plan.contextTokens,
    sequences: plan.sequences,
    flash_attention: plan.flashAttention === undefined ? null : { ...plan.flashAttention },
    estimate: {
      weights_bytes: plan.estimate.weightsBytes,
      kv_cache_bytes: plan.estimate.kvCacheBytes,
      compute_bytes: plan.estimate.computeBytes,
      overhead_bytes: plan.estimate.overheadBytes,
      total_bytes: plan.estimate.totalBytes,
      device_bytes: plan.estimate.deviceBytes,
      host_bytes: plan.estimate.hostBytes,
      resident_bytes: plan.estimate.residentBytes,
    },
    engine_estimate:
      plan.engineEstimate === undefined
        ? null
        : {
            ram_bytes: plan.engineEstimate.modelRamBytes + plan.engineEstimate.contextRamBytes,
            vram_bytes: plan.engineEstimate.modelVramBytes + plan.engineEstimate.contextVramBytes,
          },
    measured_at_load:
      plan.measured === undefined
        ? null
        : {
            baseline_resident_bytes: plan.measured.baselineResidentBytes,
            resident_bytes: plan.measured.loadedResidentBytes,
            model_resident_bytes: plan.measured.modelResidentBytes,
          },
    resident_bytes: now?.residentBytes ?? null,
    load_ms: plan.loadMs,
  };
}

export type GpuReportBody = Awaited<ReturnType<typeof gpuReportBody>>;

/** `rawrxd gpu` without a running server: detection on this machine, no loaded models. */
export async function localGpuReport(
  requested: GpuRequest,
  probes: GpuProbes = systemProbes(),
): Promise<GpuReportBody> {
  return gpuReportBody(await detectGpu({ requested, probes }), []);
}
