/**
 * What detection found: every backend of the chain CUDA → HIP → Vulkan → CPU with its reason,
 * the devices and their memory, host memory, and the backend chosen. Plain data (JSON-safe).
 */

/** Backends of the detection chain, in order. */
export type GpuBackend = "cuda" | "hip" | "vulkan" | "cpu";

/** Backends the engine (node-llama-cpp prebuilt binaries) can run; it has no HIP build. */
export type EngineBackend = "cuda" | "vulkan" | "cpu";

/** The operator's `--gpu` setting. */
export type GpuRequest = "auto" | "cuda" | "vulkan" | "cpu";

export type GpuVendor = "nvidia" | "amd" | "intel" | "other";

export interface GpuDevice {
  backend: Exclude<GpuBackend, "cpu">;
  index: number;
  name: string;
  vendor: GpuVendor;
  /** Device memory in bytes; undefined when no tool or file reported it. */
  totalBytes: number | undefined;
  freeBytes: number | undefined;
  /** An integrated GPU (or a unified-memory board) whose memory is host RAM. */
  isUnifiedMemory: boolean;
  /** Where the facts came from: "nvidia-smi", "sysfs", "vulkaninfo", "engine". */
  source: string;
}

export type ProbeOutcome = "ok" | "failed" | "not-run";

export interface BackendCandidate {
  backend: GpuBackend;
  /** A device of this kind is there (device files, vendor tools). */
  hasHardware: boolean;
  /** The driver or runtime libraries this backend needs are installed. */
  hasDriver: boolean;
  /** node-llama-cpp ships a build for it that is installed here. */
  hasEngineBuild: boolean;
  /** Loading that build in a child process (only tried when the three above hold). */
  probe: ProbeOutcome;
  isUsable: boolean;
  /** HIP hardware is served through Vulkan: the backend that runs it instead. */
  servedBy: EngineBackend | undefined;
  /** One line, starting with the backend name: `cuda: no NVIDIA driver found`. */
  reason: string;
  /** The facts behind the reason: files, libraries, tool output. */
  evidence: string[];
  devices: GpuDevice[];
}

export interface HostMemory {
  totalBytes: number;
  /** MemAvailable (counts reclaimable page cache), else free memory. */
  availableBytes: number;
  swapTotalBytes: number;
}

export interface UnifiedMemoryReport {
  /** GGML_CUDA_ENABLE_UNIFIED_MEMORY=1: CUDA may spill into host RAM instead of failing. */
  isCudaUnifiedMemoryEnabled: boolean;
  /** Integrated GPUs found: their "device" memory is host RAM. */
  integratedDevices: string[];
}

export interface EngineBuilds {
  /** Installed @node-llama-cpp/* prebuilt packages, e.g. "linux-x64", "linux-x64-cuda". */
  packages: string[];
  /** Local builds under node-llama-cpp/llama/localBuilds (the opt-in OpenMP build). */
  localBuilds: string[];
}

export interface GpuReport {
  requested: GpuRequest;
  chosen: EngineBackend;
  /** Why `chosen` won, in one line. */
  reason: string;
  /** cuda, hip, vulkan, cpu: the chain in order. */
  candidates: BackendCandidate[];
  /** Devices of every GPU candidate (a GPU can appear under CUDA and Vulkan). */
  devices: GpuDevice[];
  host: HostMemory;
  unifiedMemory: UnifiedMemoryReport;
  engine: EngineBuilds;
  platform: string;
  detectedAt: string;
  detectMs: number;
}
