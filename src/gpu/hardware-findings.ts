/**
 * What each GPU backend needs and whether this machine has it: device files, driver
 * libraries, vendor tools, and the engine's prebuilt package. No engine is loaded here.
 */
import type { GpuProbes } from "./gpu-probes.js";
import type { GpuDevice, HostMemory } from "./gpu-report.js";
import {
  nvidiaSmiArgs,
  parseNvidiaSmi,
  parseRocmSmi,
  parseVulkanSummary,
  rocmSmiArgs,
  vendorFromPciId,
  vulkaninfoArgs,
  type ToolDevice,
} from "./vendor-tools.js";

export interface Findings {
  hasHardware: boolean;
  hasDriver: boolean;
  hasEngineBuild: boolean;
  /** Why this backend cannot be used, when one of the three above is missing. */
  problem: string | undefined;
  /** What was found, for the reason of a usable backend: "1 × NVIDIA H100, driver 550.54". */
  summary: string;
  evidence: string[];
  devices: GpuDevice[];
}

export interface FindingsContext {
  probes: GpuProbes;
  /** Installed @node-llama-cpp/* packages. */
  packages: readonly string[];
  host: HostMemory;
  /** GPUs in /sys/class/drm (sysfsDevices), read once per detection. */
  sysfs: readonly GpuDevice[];
}

const vendorNames = { nvidia: "NVIDIA", amd: "AMD", intel: "Intel", other: "unknown-vendor" } as const;

function packagePrefix(probes: GpuProbes): string {
  return `${probes.platform}-${probes.arch}`;
}

function toDevices(tools: readonly ToolDevice[], backend: GpuDevice["backend"], source: string): GpuDevice[] {
  return tools.map((tool) => ({
    backend,
    index: tool.index,
    name: tool.name,
    vendor: tool.vendor,
    totalBytes: tool.totalBytes,
    freeBytes: tool.freeBytes,
    isUnifiedMemory: tool.isUnifiedMemory,
    source,
  }));
}

export function describeDevices(devices: readonly GpuDevice[]): string {
  const names = [...new Set(devices.map((device) => device.name))];
  return names
    .map((name) => `${devices.filter((device) => device.name === name).length} × ${name}`)
    .join(", ");
}

export async function findCuda(context: FindingsContext): Promise<Findings> {
  const { probes, packages } = context;
  const deviceFiles = (await probes.list("/dev"))
    .filter((name) => /^nvidia\d+$/.test(name))
    .map((name) => `/dev/${name}`);
  const smiOutput = await probes.run("nvidia-smi", nvidiaSmiArgs);
  const smi = smiOutput === undefined ? { devices: [], driverVersion: undefined } : parseNvidiaSmi(smiOutput);
  const driver = await probes.findLibrary(["libcuda.so.1", "libcuda.so"]);
  const runtime = await probes.findLibrary([
    "libcudart.so.12",
    "libcudart.so.13",
    "libcudart.so.11",
    "libcudart.so",
  ]);
  const isWsl = await probes.exists("/dev/dxg");
  const evidence = [
    deviceFiles.length > 0 ? `devices ${deviceFiles.join(", ")}` : "no /dev/nvidia* device",
    smiOutput === undefined
      ? "nvidia-smi not available"
      : `nvidia-smi: ${smi.devices.length} GPU(s)${smi.driverVersion ? `, driver ${smi.driverVersion}` : ""}`,
    driver === undefined ? "no libcuda.so.1 (NVIDIA driver)" : `driver library ${driver}`,
    ...(runtime === undefined ? [] : [`CUDA runtime ${runtime}`]),
    ...(isWsl ? ["/dev/dxg (WSL GPU)"] : []),
  ];
  const hasHardware = deviceFiles.length > 0 || smi.devices.length > 0 || (isWsl && driver !== undefined);
  const hasDriver = driver !== undefined;
  const prefix = packagePrefix(probes);
  const hasBuild = packages.includes(`${prefix}-cuda`);
  // The -ext package carries a CUDA runtime statically linked; without it the system needs one.
  const hasRuntime = packages.includes(`${prefix}-cuda-ext`) || runtime !== undefined;
  evidence.push(
    hasBuild
      ? `engine build @node-llama-cpp/${prefix}-cuda${packages.includes(`${prefix}-cuda-ext`) ? " (+ -cuda-ext)" : ""}`
      : `no engine build @node-llama-cpp/${prefix}-cuda`,
  );
  let problem: string | undefined;
  if (!hasHardware && !hasDriver) {
    problem = `no NVIDIA GPU found (no /dev/nvidia* device, ${smiOutput === undefined ? "no nvidia-smi" : "nvidia-smi lists none"}) and no NVIDIA driver (libcuda.so.1)${runtime === undefined ? "" : `; a CUDA runtime (${basename(runtime)}) alone is not enough`}`;
  } else if (!hasDriver) {
    problem = `an NVIDIA GPU is present (${deviceFiles[0] ?? "nvidia-smi"}) but no NVIDIA driver library (libcuda.so.1) was found`;
  } else if (!hasHardware) {
    problem = `the NVIDIA driver library is installed (${driver}) but there is no NVIDIA device (/dev/nvidia*): no GPU is passed into this machine or container`;
  } else if (!hasBuild) {
    problem = `NVIDIA GPU and driver found, but the engine has no CUDA build (@node-llama-cpp/${prefix}-cuda is not installed)`;
  } else if (!hasRuntime) {
    problem = `NVIDIA GPU and driver found, but no CUDA runtime for the engine build (install @node-llama-cpp/${prefix}-cuda-ext or the CUDA toolkit)`;
  }
  const devices = toDevices(smi.devices, "cuda", "nvidia-smi");
  const summary = `${devices.length > 0 ? describeDevices(devices) : "NVIDIA GPU"}${smi.driverVersion ? `, driver ${smi.driverVersion}` : ""}`;
  return {
    hasHardware,
    hasDriver,
    hasEngineBuild: hasBuild && hasRuntime,
    problem,
    summary,
    evidence,
    devices,
  };
}

export async function findHip(context: FindingsContext): Promise<Findings> {
  const { probes } = context;
  const hasKfd = await probes.exists("/dev/kfd");
  const smiOutput = await probes.run("rocm-smi", rocmSmiArgs);
  const hipLibrary = await probes.findLibrary(["libamdhip64.so.6", "libamdhip64.so.5", "libamdhip64.so"]);
  let devices = toDevices(smiOutput === undefined ? [] : parseRocmSmi(smiOutput), "hip", "rocm-smi");
  if (devices.length === 0)
    devices = context.sysfs
      .filter((device) => device.vendor === "amd")
      .map((device) => ({ ...device, backend: "hip" }));
  const evidence = [
    hasKfd ? "/dev/kfd (ROCm compute device)" : "no /dev/kfd",
    smiOutput === undefined ? "rocm-smi not available" : `rocm-smi: ${devices.length} GPU(s)`,
    hipLibrary === undefined ? "no libamdhip64.so (HIP runtime)" : `HIP runtime ${hipLibrary}`,
    "node-llama-cpp ships no HIP build",
  ];
  const names = devices.length > 0 ? ` (${describeDevices(devices)})` : "";
  return {
    hasHardware: hasKfd,
    hasDriver: hipLibrary !== undefined || smiOutput !== undefined,
    hasEngineBuild: false,
    problem: hasKfd ? `/dev/kfd present${names}, no HIP engine build` : "no AMD ROCm device (/dev/kfd) found",
    summary: `AMD GPU${names}`,
    evidence,
    devices,
  };
}

const icdFolders = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];

export async function findVulkan(
  context: FindingsContext & { cudaDevices: readonly GpuDevice[] },
): Promise<Findings> {
  const { probes, packages, host, sysfs } = context;
  const renderNodes = (await probes.list("/dev/dri")).filter((name) => /^renderD\d+$/.test(name));
  const loader = await probes.findLibrary(["libvulkan.so.1", "libvulkan.so"]);
  const icdFiles = (
    await Promise.all(
      icdFolders.map(async (folder) => (await probes.list(folder)).filter((name) => name.endsWith(".json"))),
    )
  ).flat();
  const envIcds = (probes.env["VK_DRIVER_FILES"] ?? probes.env["VK_ICD_FILENAMES"] ?? "")
    .split(":")
    .filter((path) => path !== "");
  // lavapipe (lvp) is Vulkan on the CPU: slower than the CPU backend, so it does not count.
  const hardwareIcds = [...icdFiles, ...envIcds].filter((name) => !/lvp|swiftshader/i.test(name));
  const summaryOutput = loader === undefined ? undefined : await probes.run("vulkaninfo", vulkaninfoArgs);
  const listed =
    summaryOutput === undefined
      ? []
      : parseVulkanSummary(summaryOutput).filter((device) => device.isSoftware !== true);
  const gpuNodes = sysfs.filter((device) => device.vendor !== "other");
  let devices: GpuDevice[];
  if (listed.length > 0) {
    devices = toDevices(listed, "vulkan", "vulkaninfo").map((device) =>
      withMemory(device, { sysfs, cudaDevices: context.cudaDevices, host }),
    );
  } else {
    devices = gpuNodes.map((device, index) =>
      withMemory({ ...device, index }, { sysfs, cudaDevices: context.cudaDevices, host }),
    );
  }
  const evidence = [
    renderNodes.length > 0
      ? `render nodes ${renderNodes.map((name) => `/dev/dri/${name}`).join(", ")}`
      : "no /dev/dri/renderD* node",
    ...sysfs
      .filter((device) => device.vendor === "other")
      .map((device) => `${device.name} (not a known GPU vendor)`),
    loader === undefined ? "no libvulkan.so.1 (Vulkan loader)" : `Vulkan loader ${loader}`,
    hardwareIcds.length > 0 ? `Vulkan drivers ${hardwareIcds.join(", ")}` : "no Vulkan driver (ICD) file",
    ...(summaryOutput === undefined ? [] : [`vulkaninfo: ${listed.length} hardware device(s)`]),
  ];
  const hasHardware = gpuNodes.length > 0 || listed.length > 0;
  const hasDriver = loader !== undefined && (hardwareIcds.length > 0 || listed.length > 0);
  const prefix = packagePrefix(probes);
  const hasEngineBuild = packages.includes(`${prefix}-vulkan`);
  evidence.push(
    hasEngineBuild
      ? `engine build @node-llama-cpp/${prefix}-vulkan`
      : `no engine build @node-llama-cpp/${prefix}-vulkan`,
  );
  let problem: string | undefined;
  if (!hasHardware) {
    problem =
      renderNodes.length === 0
        ? "no GPU render node (/dev/dri/renderD*) found"
        : "the render nodes belong to no known GPU vendor";
  } else if (loader === undefined) {
    problem = "a GPU is present but the Vulkan loader (libvulkan.so.1) is not installed";
  } else if (!hasDriver) {
    problem = "a GPU and the Vulkan loader are present but no Vulkan driver (ICD) is installed";
  } else if (!hasEngineBuild) {
    problem = `the engine has no Vulkan build (@node-llama-cpp/${prefix}-vulkan is not installed)`;
  }
  return {
    hasHardware,
    hasDriver,
    hasEngineBuild,
    problem,
    summary: devices.length > 0 ? describeDevices(devices) : "Vulkan GPU",
    evidence,
    devices,
  };
}

/** GPUs as the kernel lists them: /sys/class/drm/renderD*, PCI vendor, amdgpu memory files. */
export async function sysfsDevices(probes: GpuProbes, host: HostMemory): Promise<GpuDevice[]> {
  const nodes = (await probes.list("/sys/class/drm")).filter((name) => /^renderD\d+$/.test(name)).sort();
  const devices: GpuDevice[] = [];
  for (const node of nodes) {
    const base = `/sys/class/drm/${node}/device`;
    const vendorId = (await probes.readText(`${base}/vendor`))?.trim();
    const deviceId = (await probes.readText(`${base}/device`))?.trim() ?? "?";
    const vendor = vendorFromPciId(vendorId);
    const number = async (file: string): Promise<number | undefined> => {
      const text = (await probes.readText(`${base}/${file}`))?.trim();
      return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
    };
    const vramTotal = await number("mem_info_vram_total");
    const vramUsed = await number("mem_info_vram_used");
    // Intel GPUs without their own VRAM files, and AMD APUs with a small carve-out, use host RAM.
    const isUnifiedMemory = vendor === "intel" || (vendor === "amd" && (vramTotal ?? 0) < 2 * 1024 ** 3);
    devices.push({
      backend: "vulkan",
      index: devices.length,
      name: `${vendorNames[vendor]} GPU ${deviceId} (${node}${vendor === "other" ? `, vendor ${vendorId ?? "?"}` : ""})`,
      vendor,
      totalBytes: isUnifiedMemory ? host.totalBytes : vramTotal,
      freeBytes: isUnifiedMemory
        ? host.availableBytes
        : vramTotal !== undefined && vramUsed !== undefined
          ? vramTotal - vramUsed
          : undefined,
      isUnifiedMemory,
      source: "sysfs",
    });
  }
  return devices;
}

/** Adds memory to a Vulkan device from nvidia-smi (NVIDIA), sysfs (AMD) or host RAM (integrated). */
function withMemory(
  device: GpuDevice,
  known: { sysfs: readonly GpuDevice[]; cudaDevices: readonly GpuDevice[]; host: HostMemory },
): GpuDevice {
  if (device.totalBytes !== undefined) return device;
  if (device.isUnifiedMemory)
    return { ...device, totalBytes: known.host.totalBytes, freeBytes: known.host.availableBytes };
  const sameVendor = (device.vendor === "nvidia" ? known.cudaDevices : known.sysfs).filter(
    (other) => other.vendor === device.vendor,
  );
  const match = sameVendor[device.index] ?? (sameVendor.length === 1 ? sameVendor[0] : undefined);
  return match === undefined
    ? device
    : {
        ...device,
        totalBytes: match.totalBytes,
        freeBytes: match.freeBytes,
        isUnifiedMemory: match.isUnifiedMemory,
      };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
