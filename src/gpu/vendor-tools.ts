/** Parsers for vendor tool output (nvidia-smi, rocm-smi, vulkaninfo); pure, so tests feed recorded text. */
import type { GpuDevice, GpuVendor } from "./gpu-report.js";

const mebibyte = 1024 * 1024;

/** A device as a vendor tool reports it: a GpuDevice before it is tied to a backend and a source. */
export interface ToolDevice extends Omit<GpuDevice, "backend" | "source"> {
  /** vulkaninfo only: a software rasteriser (llvmpipe, SwiftShader) is no GPU. */
  isSoftware?: boolean;
}

export const nvidiaSmiArgs = [
  "--query-gpu=index,name,memory.total,memory.free,driver_version",
  "--format=csv,noheader,nounits",
] as const;

/**
 * `nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version --format=csv,noheader,nounits`:
 * `0, NVIDIA H100 80GB HBM3, 81559, 81008, 550.54.15` (MiB). Boards whose GPU shares host
 * memory (Jetson, GB10) print `[N/A]` for memory: those are unified-memory devices.
 */
export function parseNvidiaSmi(output: string): { devices: ToolDevice[]; driverVersion: string | undefined } {
  const devices: ToolDevice[] = [];
  let driverVersion: string | undefined;
  for (const line of output.split("\n")) {
    const fields = line.split(",").map((field) => field.trim());
    if (fields.length < 4 || !/^\d+$/.test(fields[0]!)) continue;
    const mebibytes = (text: string | undefined): number | undefined =>
      text !== undefined && /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * mebibyte) : undefined;
    const totalBytes = mebibytes(fields[2]);
    devices.push({
      index: Number(fields[0]),
      name: fields[1]!,
      vendor: "nvidia",
      totalBytes,
      freeBytes: mebibytes(fields[3]),
      isUnifiedMemory: totalBytes === undefined,
    });
    driverVersion ??= fields[4];
  }
  return { devices, driverVersion };
}

export const rocmSmiArgs = ["--showproductname", "--showmeminfo", "vram", "--json"] as const;

/** `rocm-smi --showproductname --showmeminfo vram --json`: `{"card0": {"Card series": …, "VRAM Total Memory (B)": …}}`. */
export function parseRocmSmi(output: string): ToolDevice[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return [];
  }
  if (parsed === null || typeof parsed !== "object") return [];
  const devices: ToolDevice[] = [];
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const match = /^card(\d+)$/i.exec(key);
    if (match === null || value === null || typeof value !== "object") continue;
    const fields = new Map(
      Object.entries(value as Record<string, unknown>).map(([name, field]) => [
        name.toLowerCase(),
        String(field),
      ]),
    );
    const number = (name: string): number | undefined => {
      const text = fields.get(name);
      return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
    };
    const totalBytes = number("vram total memory (b)");
    const usedBytes = number("vram total used memory (b)");
    devices.push({
      index: Number(match[1]),
      name: fields.get("card series") ?? fields.get("card model") ?? `AMD GPU ${key}`,
      vendor: "amd",
      totalBytes,
      freeBytes: totalBytes !== undefined && usedBytes !== undefined ? totalBytes - usedBytes : undefined,
      isUnifiedMemory: false,
    });
  }
  return devices.sort((a, b) => a.index - b.index);
}

export const vulkaninfoArgs = ["--summary"] as const;

/** `vulkaninfo --summary`: blocks `GPU0:` of `key = value` lines (deviceName, deviceType, vendorID). */
export function parseVulkanSummary(output: string): ToolDevice[] {
  const devices: ToolDevice[] = [];
  let current: Map<string, string> | undefined;
  const flush = (): void => {
    if (current === undefined) return;
    const type = current.get("deviceType") ?? "";
    devices.push({
      index: devices.length,
      name: current.get("deviceName") ?? "unknown Vulkan device",
      vendor: vendorFromPciId(current.get("vendorID")),
      totalBytes: undefined,
      freeBytes: undefined,
      isUnifiedMemory: type.includes("INTEGRATED_GPU"),
      isSoftware: type.includes("TYPE_CPU"),
    });
  };
  for (const line of output.split("\n")) {
    if (/^GPU\d+:\s*$/.test(line.trim())) {
      flush();
      current = new Map();
      continue;
    }
    const match = /^\s+(\w+)\s*=\s*(.+?)\s*$/.exec(line);
    if (match !== null && current !== undefined) current.set(match[1]!, match[2]!);
  }
  flush();
  return devices;
}

/** PCI vendor ids as sysfs and vulkaninfo print them ("0x10de"). */
export function vendorFromPciId(id: string | undefined): GpuVendor {
  switch ((id ?? "").trim().toLowerCase()) {
    case "0x10de":
      return "nvidia";
    case "0x1002":
      return "amd";
    case "0x8086":
      return "intel";
    default:
      return "other";
  }
}
