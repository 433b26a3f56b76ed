import { describe, expect, it } from "vitest";
import { parseProcStatus } from "./process-memory.js";
import { parseMeminfo } from "./host-memory.js";
import { parseLdconfig } from "./system-probes.js";
import { parseNvidiaSmi, parseRocmSmi, parseVulkanSummary } from "./vendor-tools.js";

const mebibyte = 1024 * 1024;

describe("vendor tool output", () => {
  it("nvidia-smi CSV: devices, memory in MiB, driver; [N/A] memory means unified (Jetson, GB10)", () => {
    const parsed = parseNvidiaSmi(
      "0, NVIDIA H100 80GB HBM3, 81559, 81008, 550.54.15\n1, NVIDIA GB10, [N/A], [N/A], 580.95\n\n",
    );
    expect(parsed.driverVersion).toBe("550.54.15");
    expect(parsed.devices).toEqual([
      {
        index: 0,
        name: "NVIDIA H100 80GB HBM3",
        vendor: "nvidia",
        totalBytes: 81559 * mebibyte,
        freeBytes: 81008 * mebibyte,
        isUnifiedMemory: false,
      },
      {
        index: 1,
        name: "NVIDIA GB10",
        vendor: "nvidia",
        totalBytes: undefined,
        freeBytes: undefined,
        isUnifiedMemory: true,
      },
    ]);
    expect(
      parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.").devices,
    ).toEqual([]);
  });

  it("rocm-smi JSON: card series and VRAM; garbage gives nothing", () => {
    const output = JSON.stringify({
      card0: {
        "Card series": "Radeon RX 7900 XTX",
        "VRAM Total Memory (B)": "25753026560",
        "VRAM Total Used Memory (B)": "1073741824",
      },
    });
    expect(parseRocmSmi(output)).toEqual([
      {
        index: 0,
        name: "Radeon RX 7900 XTX",
        vendor: "amd",
        totalBytes: 25753026560,
        freeBytes: 25753026560 - 1073741824,
        isUnifiedMemory: false,
      },
    ]);
    expect(parseRocmSmi("not json")).toEqual([]);
  });

  it("vulkaninfo --summary: names, integrated vs discrete, software devices flagged", () => {
    const devices = parseVulkanSummary(
      [
        "GPU0:",
        "\tvendorID = 0x8086",
        "\tdeviceType = PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU",
        "\tdeviceName = Intel(R) Iris(R) Xe Graphics",
        "GPU1:",
        "\tdeviceType = PHYSICAL_DEVICE_TYPE_CPU",
        "\tdeviceName = llvmpipe",
      ].join("\n"),
    );
    expect(
      devices.map((device) => [device.name, device.vendor, device.isUnifiedMemory, device.isSoftware]),
    ).toEqual([
      ["Intel(R) Iris(R) Xe Graphics", "intel", true, false],
      ["llvmpipe", "other", false, true],
    ]);
  });

  it("ldconfig -p: soname → path, first entry wins", () => {
    const libraries = parseLdconfig(
      "538 libs found in cache `/etc/ld.so.cache'\n\tlibcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1\n\tlibcuda.so.1 (libc6) => /lib32/libcuda.so.1\n",
    );
    expect([...libraries]).toEqual([["libcuda.so.1", "/lib/x86_64-linux-gnu/libcuda.so.1"]]);
  });

  it("/proc/meminfo and /proc/<pid>/status", () => {
    expect(
      parseMeminfo(
        "MemTotal:       24683656 kB\nMemFree: 1 kB\nMemAvailable:   23841892 kB\nSwapTotal: 0 kB\n",
      ),
    ).toEqual({ totalBytes: 24683656 * 1024, availableBytes: 23841892 * 1024, swapTotalBytes: 0 });
    expect(
      parseProcStatus("Name:\tnode\nVmRSS:\t  400000 kB\nRssAnon:\t  200000 kB\nRssFile:\t  190000 kB\n"),
    ).toEqual({
      residentBytes: 400000 * 1024,
      anonymousBytes: 200000 * 1024,
      fileBytes: 190000 * 1024,
      sharedBytes: 0,
    });
    expect(parseProcStatus("Name:\tkthreadd\n")).toBeUndefined();
  });
});
