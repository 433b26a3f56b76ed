/**
 * GPUBackend: the detection chain CUDA → HIP → Vulkan → CPU with a reason per backend, device
 * and host memory, the memory model and offload planner, and runner resident-memory reads.
 */
export type {
  BackendCandidate,
  EngineBackend,
  EngineBuilds,
  GpuBackend,
  GpuDevice,
  GpuReport,
  GpuRequest,
  GpuVendor,
  HostMemory,
  ProbeOutcome,
  UnifiedMemoryReport,
} from "./gpu-report.js";
export type { EngineProbeResult, GpuProbes } from "./gpu-probes.js";
export { detectGpu, type DetectGpuOptions } from "./detect-gpu.js";
export { systemProbes, parseLdconfig } from "./system-probes.js";
export { readHostMemory, readHostMemorySync, parseMeminfo } from "./host-memory.js";
export { fakeProbes, type FakeMachine } from "./fake-probes.js";
export { parseNvidiaSmi, parseRocmSmi, parseVulkanSummary } from "./vendor-tools.js";
export {
  memoryShapeOf,
  estimateModelMemory,
  effectiveContextTokens,
  totalLayersOf,
  type ModelMemoryShape,
  type ModelMemoryEstimate,
  type MemoryEstimateOptions,
} from "./model-memory.js";
export {
  planOffload,
  defaultDeviceMarginBytes,
  type DeviceMemory,
  type OffloadPlan,
  type OffloadPlanOptions,
  type OffloadKind,
} from "./offload-plan.js";
export {
  readResidentMemory,
  readResidentMemorySync,
  parseProcStatus,
  type ResidentMemory,
} from "./process-memory.js";
export type {
  EngineEstimate,
  MeasuredMemory,
  ModelPlanReport,
  ThreadChoice,
  ThreadSample,
  ThreadSource,
} from "./model-plan.js";
