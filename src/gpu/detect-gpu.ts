/**
 * The detection chain CUDA → HIP → Vulkan → CPU. A GPU backend is usable when its hardware,
 * driver and engine build are all there and the engine's build for it loads in a child
 * process. HIP hardware is served through Vulkan (node-llama-cpp has no HIP build). An explicit
 * `--gpu` that is not usable fails loudly instead of falling back.
 */
import { AppError, formatBytes, systemTime, type TimePort } from "../core/index.js";
import type { GpuProbes } from "./gpu-probes.js";
import type { BackendCandidate, EngineBackend, GpuReport, GpuRequest } from "./gpu-report.js";
import {
  describeDevices,
  findCuda,
  findHip,
  findVulkan,
  sysfsDevices,
  type Findings,
} from "./hardware-findings.js";

export interface DetectGpuOptions {
  requested: GpuRequest;
  probes: GpuProbes;
  /** Times detection and stamps `detectedAt`. Default `systemTime`. */
  time?: TimePort;
}

/** "engine build @node-llama-cpp/linux-x64", or "engine builds @node-llama-cpp/linux-x64 and local linux-x64-2n5v…" (npm run engine:build). */
function cpuBuildsText(prebuilt: string | undefined, localBuilds: readonly string[]): string {
  const builds = [
    ...(prebuilt === undefined ? [] : [prebuilt]),
    ...localBuilds.map((name) => `local ${name}`),
  ];
  return `engine build${builds.length > 1 ? "s" : ""} ${builds.join(" and ")}`;
}

export async function detectGpu(options: DetectGpuOptions): Promise<GpuReport> {
  const { requested, probes } = options;
  const time = options.time ?? systemTime;
  const startedMs = time.monotonicNow();
  const [packages, localBuilds, host] = await Promise.all([
    probes.enginePackages(),
    probes.localBuilds(),
    probes.hostMemory(),
  ]);
  const context = { probes, packages, host, sysfs: await sysfsDevices(probes, host) };
  const [cudaFound, hipFound] = await Promise.all([findCuda(context), findHip(context)]);
  const vulkanFound = await findVulkan({ ...context, cudaDevices: cudaFound.devices });

  const cuda = await probeCandidate("cuda", cudaFound, {
    probes,
    shouldProbe: requested === "auto" || requested === "cuda",
    skipNote: `--gpu ${requested}`,
  });
  const vulkanSkip = requested === "auto" && cuda.isUsable ? "cuda comes first" : `--gpu ${requested}`;
  const vulkan = await probeCandidate("vulkan", vulkanFound, {
    probes,
    shouldProbe: requested === "vulkan" || (requested === "auto" && !cuda.isUsable),
    skipNote: vulkanSkip,
  });
  const hip = hipCandidate(hipFound, vulkan);
  const cpuBuild = packages.includes(`${probes.platform}-${probes.arch}`) || localBuilds.length > 0;
  const cpu: BackendCandidate = {
    backend: "cpu",
    hasHardware: true,
    hasDriver: true,
    hasEngineBuild: cpuBuild,
    probe: "not-run",
    isUsable: cpuBuild,
    servedBy: undefined,
    reason: cpuBuild
      ? `cpu: always available (${cpuBuildsText(packages.includes(`${probes.platform}-${probes.arch}`) ? `@node-llama-cpp/${probes.platform}-${probes.arch}` : undefined, localBuilds)}, ${host.totalBytes > 0 ? `${formatBytes(host.availableBytes)} of ${formatBytes(host.totalBytes)} RAM available` : "RAM unknown"})`
      : `cpu: no engine build for ${probes.platform}-${probes.arch} (@node-llama-cpp/${probes.platform}-${probes.arch} is not installed); loading a model will fail`,
    evidence: [
      `host RAM ${formatBytes(host.totalBytes)}, available ${formatBytes(host.availableBytes)}, swap ${formatBytes(host.swapTotalBytes)}`,
    ],
    devices: [],
  };
  const candidates = [cuda, hip, vulkan, cpu];
  const { chosen, reason } = choose(requested, candidates);
  const devices = [...cuda.devices, ...hip.devices, ...vulkan.devices];
  return {
    requested,
    chosen,
    reason,
    candidates,
    devices,
    host,
    unifiedMemory: {
      isCudaUnifiedMemoryEnabled: probes.env["GGML_CUDA_ENABLE_UNIFIED_MEMORY"] === "1",
      integratedDevices: [
        ...new Set(devices.filter((device) => device.isUnifiedMemory).map((device) => device.name)),
      ],
    },
    engine: { packages, localBuilds },
    platform: `${probes.platform}-${probes.arch}`,
    detectedAt: new Date(time.wallNow()).toISOString(),
    detectMs: Math.round(time.monotonicNow() - startedMs),
  };
}

async function probeCandidate(
  backend: "cuda" | "vulkan",
  found: Findings,
  options: { probes: GpuProbes; shouldProbe: boolean; skipNote: string },
): Promise<BackendCandidate> {
  const base = {
    backend,
    hasHardware: found.hasHardware,
    hasDriver: found.hasDriver,
    hasEngineBuild: found.hasEngineBuild,
    servedBy: undefined,
    evidence: found.evidence,
    devices: found.devices,
  };
  if (found.problem !== undefined)
    return { ...base, probe: "not-run", isUsable: false, reason: `${backend}: ${found.problem}` };
  if (!options.shouldProbe)
    return {
      ...base,
      probe: "not-run",
      isUsable: false,
      reason: `${backend}: ${found.summary}; engine build not probed (${options.skipNote})`,
    };
  const probe = await options.probes.probeEngine(backend);
  const evidence = [...found.evidence, `engine probe: ${probe.detail}`];
  if (!probe.isOk)
    return {
      ...base,
      evidence,
      probe: "failed",
      isUsable: false,
      reason: `${backend}: ${found.summary} found, but the engine's ${backend} build did not load: ${probe.detail}`,
    };
  // The engine's own view of device memory is the one the offload planner should trust.
  const devices =
    found.devices.length > 0 || probe.deviceNames.length === 0
      ? found.devices
      : probe.deviceNames.map((name, index) => ({
          backend,
          index,
          name,
          vendor: "other" as const,
          totalBytes: probe.totalBytes,
          freeBytes: probe.freeBytes,
          isUnifiedMemory: probe.unifiedBytes > 0,
          source: "engine",
        }));
  return {
    ...base,
    evidence,
    devices,
    probe: "ok",
    isUsable: true,
    reason: `${backend}: usable: ${devices.length > 0 ? describeDevices(devices) : found.summary}`,
  };
}

function hipCandidate(found: Findings, vulkan: BackendCandidate): BackendCandidate {
  const base = {
    backend: "hip" as const,
    hasHardware: found.hasHardware,
    hasDriver: found.hasDriver,
    hasEngineBuild: false,
    probe: "not-run" as const,
    isUsable: false,
    evidence: found.evidence,
    devices: found.devices,
  };
  if (!found.hasHardware) return { ...base, servedBy: undefined, reason: `hip: ${found.problem}` };
  if (vulkan.isUsable)
    return { ...base, servedBy: "vulkan", reason: `hip: ${found.problem}, falling back to vulkan` };
  return {
    ...base,
    servedBy: undefined,
    reason: `hip: ${found.problem}, and vulkan is not usable either (${vulkan.reason})`,
  };
}

function choose(
  requested: GpuRequest,
  candidates: readonly BackendCandidate[],
): { chosen: EngineBackend; reason: string } {
  const byName = (backend: BackendCandidate["backend"]): BackendCandidate =>
    candidates.find((candidate) => candidate.backend === backend)!;
  switch (requested) {
    case "cpu":
      return { chosen: "cpu", reason: "--gpu cpu: the CPU backend was asked for" };
    case "cuda":
    case "vulkan": {
      const candidate = byName(requested);
      if (candidate.isUsable) return { chosen: requested, reason: `--gpu ${requested}: ${candidate.reason}` };
      const fallback = choose("auto", candidates).chosen;
      throw new AppError(
        "bad-request",
        `--gpu ${requested} was asked for, but ${requested === "cuda" ? "CUDA" : "Vulkan"} is not usable on this machine: ${candidate.reason}. Use --gpu auto (it would pick ${fallback}) or --gpu cpu.`,
      );
    }
    case "auto": {
      if (byName("cuda").isUsable)
        return { chosen: "cuda", reason: "auto: CUDA is first in the chain and usable" };
      const hip = byName("hip");
      if (hip.servedBy === "vulkan")
        return {
          chosen: "vulkan",
          reason: "auto: AMD GPU (HIP hardware) served through Vulkan, as node-llama-cpp has no HIP build",
        };
      if (byName("vulkan").isUsable)
        return { chosen: "vulkan", reason: "auto: no usable CUDA; Vulkan is usable" };
      return { chosen: "cpu", reason: "auto: no GPU backend is usable; running on the CPU" };
    }
  }
}
