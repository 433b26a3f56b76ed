import { describe, expect, it } from "vitest";
import { AppError, FakeTime } from "../core/index.js";
import { detectGpu } from "./detect-gpu.js";
import { fakeProbes, type FakeMachine } from "./fake-probes.js";
import type { BackendCandidate, GpuReport } from "./gpu-report.js";

const gib = 1024 ** 3;
const allPackages = ["linux-x64", "linux-x64-cuda", "linux-x64-cuda-ext", "linux-x64-vulkan"];
const nvidiaSmi = "0, NVIDIA H100 80GB HBM3, 81559, 80000, 550.54.15\n";

const nvidiaMachine: FakeMachine = {
  files: { "/dev/nvidia0": "", "/dev/nvidiactl": "" },
  libraries: { "libcuda.so.1": "/usr/lib/x86_64-linux-gnu/libcuda.so.1" },
  tools: { "nvidia-smi": nvidiaSmi },
  packages: allPackages,
};

const amdMachine: FakeMachine = {
  files: {
    "/dev/kfd": "",
    "/dev/dri/renderD128": "",
    "/sys/class/drm/renderD128/device/vendor": "0x1002\n",
    "/sys/class/drm/renderD128/device/device": "0x73bf\n",
    "/sys/class/drm/renderD128/device/mem_info_vram_total": String(16 * gib),
    "/sys/class/drm/renderD128/device/mem_info_vram_used": String(1 * gib),
    "/usr/share/vulkan/icd.d/radeon_icd.x86_64.json": "{}",
  },
  libraries: {
    "libvulkan.so.1": "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
    "libamdhip64.so": "/opt/rocm/lib/libamdhip64.so",
  },
  packages: allPackages,
};

function candidate(report: GpuReport, backend: BackendCandidate["backend"]): BackendCandidate {
  return report.candidates.find((item) => item.backend === backend)!;
}

async function detectionError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("detectGpu: the chain CUDA → HIP → Vulkan → CPU", () => {
  it("a machine without a GPU chooses the CPU and gives every other backend its reason, without probing", async () => {
    const probes = fakeProbes({ packages: allPackages });
    const report = await detectGpu({ requested: "auto", probes });
    expect(report.chosen).toBe("cpu");
    expect(report.reason).toBe("auto: no GPU backend is usable; running on the CPU");
    expect(report.candidates.map((item) => item.backend)).toEqual(["cuda", "hip", "vulkan", "cpu"]);
    expect(candidate(report, "cuda").reason).toMatch(
      /^cuda: no NVIDIA GPU found \(no \/dev\/nvidia\* device, no nvidia-smi\) and no NVIDIA driver \(libcuda\.so\.1\)$/,
    );
    expect(candidate(report, "hip").reason).toBe("hip: no AMD ROCm device (/dev/kfd) found");
    expect(candidate(report, "vulkan").reason).toBe("vulkan: no GPU render node (/dev/dri/renderD*) found");
    expect(candidate(report, "cpu")).toMatchObject({
      isUsable: true,
      reason: expect.stringMatching(
        /^cpu: always available \(engine build @node-llama-cpp\/linux-x64, 12\.0 GiB of 16\.0 GiB RAM available\)$/,
      ),
    });
    expect(probes.probed).toEqual([]);
    expect(report.devices).toEqual([]);
  });

  it("the CPU reason names the local OpenMP build next to the prebuilt one when `npm run engine:build` made it", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ packages: allPackages, localBuilds: ["linux-x64-2n5v651c"] }),
    });
    expect(candidate(report, "cpu").reason).toMatch(
      /^cpu: always available \(engine builds @node-llama-cpp\/linux-x64 and local linux-x64-2n5v651c, /,
    );
    const onlyLocal = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ packages: [], localBuilds: ["linux-x64-2n5v651c"] }),
    });
    expect(candidate(onlyLocal, "cpu")).toMatchObject({
      isUsable: true,
      reason: expect.stringMatching(/^cpu: always available \(engine build local linux-x64-2n5v651c, /),
    });
  });

  it("a CUDA runtime without a driver or device is not enough, and says so", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({
        packages: allPackages,
        libraries: { "libcudart.so.13": "/usr/local/cuda-13.0/lib/libcudart.so.13" },
      }),
    });
    expect(candidate(report, "cuda").reason).toContain(
      "a CUDA runtime (libcudart.so.13) alone is not enough",
    );
    expect(report.chosen).toBe("cpu");
  });

  it("an NVIDIA GPU with driver and engine build is probed and chosen, with its memory from nvidia-smi", async () => {
    const probes = fakeProbes(nvidiaMachine);
    const report = await detectGpu({ requested: "auto", probes });
    expect(report.chosen).toBe("cuda");
    expect(report.reason).toBe("auto: CUDA is first in the chain and usable");
    expect(candidate(report, "cuda")).toMatchObject({
      isUsable: true,
      probe: "ok",
      hasHardware: true,
      hasDriver: true,
      hasEngineBuild: true,
    });
    expect(candidate(report, "cuda").reason).toBe("cuda: usable: 1 × NVIDIA H100 80GB HBM3");
    expect(report.devices).toEqual([
      {
        backend: "cuda",
        index: 0,
        name: "NVIDIA H100 80GB HBM3",
        vendor: "nvidia",
        totalBytes: 81559 * 1024 ** 2,
        freeBytes: 80000 * 1024 ** 2,
        isUnifiedMemory: false,
        source: "nvidia-smi",
      },
    ]);
    // Vulkan is not probed once CUDA won: the probe loads a whole engine build.
    expect(probes.probed).toEqual(["cuda"]);
  });

  it("an NVIDIA device without the driver library", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ ...nvidiaMachine, libraries: {}, tools: {} }),
    });
    expect(candidate(report, "cuda").reason).toBe(
      "cuda: an NVIDIA GPU is present (/dev/nvidia0) but no NVIDIA driver library (libcuda.so.1) was found",
    );
  });

  it("the driver library without a device (no GPU passed into the container)", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ ...nvidiaMachine, files: {}, tools: {} }),
    });
    expect(candidate(report, "cuda").reason).toMatch(
      /^cuda: the NVIDIA driver library is installed \(.*libcuda\.so\.1\) but there is no NVIDIA device/,
    );
  });

  it("GPU and driver but no CUDA engine build, or no CUDA runtime for it", async () => {
    const noBuild = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ ...nvidiaMachine, packages: ["linux-x64"] }),
    });
    expect(candidate(noBuild, "cuda").reason).toBe(
      "cuda: NVIDIA GPU and driver found, but the engine has no CUDA build (@node-llama-cpp/linux-x64-cuda is not installed)",
    );
    const noRuntime = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ ...nvidiaMachine, packages: ["linux-x64", "linux-x64-cuda"] }),
    });
    expect(candidate(noRuntime, "cuda").reason).toContain("no CUDA runtime for the engine build");
    expect(noRuntime.chosen).toBe("cpu");
  });

  it("a CUDA build that fails its probe falls through to the next backend under auto", async () => {
    const probes = fakeProbes({
      ...nvidiaMachine,
      engine: { cuda: "NoBinaryFoundError (not compatible with the current system)" },
    });
    const report = await detectGpu({ requested: "auto", probes });
    expect(candidate(report, "cuda")).toMatchObject({ isUsable: false, probe: "failed" });
    expect(candidate(report, "cuda").reason).toBe(
      "cuda: 1 × NVIDIA H100 80GB HBM3, driver 550.54.15 found, but the engine's cuda build did not load: NoBinaryFoundError (not compatible with the current system)",
    );
    expect(report.chosen).toBe("cpu");
  });

  it("asked for cuda with none present: a clear error naming the reason and the way out", async () => {
    const error = await detectionError(
      detectGpu({ requested: "cuda", probes: fakeProbes({ packages: allPackages }) }),
    );
    expect(error.code).toBe("bad-request");
    expect(error.message).toBe(
      "--gpu cuda was asked for, but CUDA is not usable on this machine: cuda: no NVIDIA GPU found (no /dev/nvidia* device, no nvidia-smi) and no NVIDIA driver (libcuda.so.1). Use --gpu auto (it would pick cpu) or --gpu cpu.",
    );
  });

  it("asked for vulkan with none present fails the same way", async () => {
    const error = await detectionError(
      detectGpu({ requested: "vulkan", probes: fakeProbes({ packages: allPackages }) }),
    );
    expect(error.message).toMatch(
      /^--gpu vulkan was asked for, but Vulkan is not usable on this machine: vulkan: no GPU render node/,
    );
  });

  it("asked for cuda on an NVIDIA machine: cuda, and Vulkan is not probed", async () => {
    const probes = fakeProbes(nvidiaMachine);
    const report = await detectGpu({ requested: "cuda", probes });
    expect(report).toMatchObject({ requested: "cuda", chosen: "cuda" });
    expect(report.reason).toMatch(/^--gpu cuda: cuda: usable/);
  });

  it("--gpu cpu on an NVIDIA machine: CPU, nothing probed, CUDA described as not probed", async () => {
    const probes = fakeProbes(nvidiaMachine);
    const report = await detectGpu({ requested: "cpu", probes });
    expect(report.chosen).toBe("cpu");
    expect(report.reason).toBe("--gpu cpu: the CPU backend was asked for");
    expect(candidate(report, "cuda").reason).toBe(
      "cuda: 1 × NVIDIA H100 80GB HBM3, driver 550.54.15; engine build not probed (--gpu cpu)",
    );
    expect(probes.probed).toEqual([]);
  });

  it("AMD GPU (HIP hardware) is served through Vulkan, and the report says so", async () => {
    const probes = fakeProbes(amdMachine);
    const report = await detectGpu({ requested: "auto", probes });
    expect(report.chosen).toBe("vulkan");
    expect(report.reason).toBe(
      "auto: AMD GPU (HIP hardware) served through Vulkan, as node-llama-cpp has no HIP build",
    );
    const hip = candidate(report, "hip");
    expect(hip).toMatchObject({
      hasHardware: true,
      hasDriver: true,
      hasEngineBuild: false,
      isUsable: false,
      servedBy: "vulkan",
    });
    expect(hip.reason).toBe(
      "hip: /dev/kfd present (1 × AMD GPU 0x73bf (renderD128)), no HIP engine build, falling back to vulkan",
    );
    expect(candidate(report, "vulkan")).toMatchObject({ isUsable: true, probe: "ok" });
    const vulkanDevice = report.devices.find((device) => device.backend === "vulkan")!;
    expect(vulkanDevice).toMatchObject({
      vendor: "amd",
      totalBytes: 16 * gib,
      freeBytes: 15 * gib,
      isUnifiedMemory: false,
      source: "sysfs",
    });
    expect(probes.probed).toEqual(["vulkan"]);
  });

  it("AMD GPU without a Vulkan loader: HIP says Vulkan is not usable either, CPU is chosen", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ ...amdMachine, libraries: {} }),
    });
    expect(candidate(report, "hip").reason).toMatch(
      /^hip: \/dev\/kfd present .*, and vulkan is not usable either \(vulkan: a GPU is present but the Vulkan loader \(libvulkan\.so\.1\) is not installed\)$/,
    );
    expect(report.chosen).toBe("cpu");
  });

  it("device names come from vulkaninfo when it is installed; software rasterisers are not GPUs", async () => {
    const summary = [
      "Devices:",
      "========",
      "GPU0:",
      "\tvendorID           = 0x1002",
      "\tdeviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU",
      "\tdeviceName         = AMD Radeon RX 6800 XT (RADV NAVI21)",
      "GPU1:",
      "\tvendorID           = 0x10005",
      "\tdeviceType         = PHYSICAL_DEVICE_TYPE_CPU",
      "\tdeviceName         = llvmpipe (LLVM 15.0.7, 256 bits)",
    ].join("\n");
    const report = await detectGpu({
      requested: "vulkan",
      probes: fakeProbes({ ...amdMachine, tools: { vulkaninfo: summary } }),
    });
    expect(report.devices.filter((device) => device.backend === "vulkan")).toEqual([
      {
        backend: "vulkan",
        index: 0,
        name: "AMD Radeon RX 6800 XT (RADV NAVI21)",
        vendor: "amd",
        totalBytes: 16 * gib,
        freeBytes: 15 * gib,
        isUnifiedMemory: false,
        source: "vulkaninfo",
      },
    ]);
  });

  it("an Intel integrated GPU runs through Vulkan on unified memory (host RAM)", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({
        files: {
          "/dev/dri/renderD128": "",
          "/sys/class/drm/renderD128/device/vendor": "0x8086",
          "/sys/class/drm/renderD128/device/device": "0x46a6",
          "/usr/share/vulkan/icd.d/intel_icd.x86_64.json": "{}",
        },
        libraries: { "libvulkan.so.1": "/usr/lib/libvulkan.so.1" },
        packages: allPackages,
      }),
    });
    expect(report.chosen).toBe("vulkan");
    expect(report.devices[0]).toMatchObject({
      vendor: "intel",
      isUnifiedMemory: true,
      totalBytes: 16 * gib,
      freeBytes: 12 * gib,
    });
    expect(report.unifiedMemory.integratedDevices).toEqual(["Intel GPU 0x46a6 (renderD128)"]);
  });

  it("only a software Vulkan driver (lavapipe) is no Vulkan driver", async () => {
    const files = Object.fromEntries(
      Object.entries(amdMachine.files!).filter(([path]) => !path.includes("radeon_icd")),
    );
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({
        ...amdMachine,
        files: { ...files, "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json": "{}" },
      }),
    });
    expect(candidate(report, "vulkan").reason).toBe(
      "vulkan: a GPU and the Vulkan loader are present but no Vulkan driver (ICD) is installed",
    );
  });

  it("render nodes of unknown vendors (a VM's virtio GPU) are not GPUs", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({
        files: { "/dev/dri/renderD128": "", "/sys/class/drm/renderD128/device/vendor": "0x1af4" },
        libraries: { "libvulkan.so.1": "/usr/lib/libvulkan.so.1" },
        packages: allPackages,
      }),
    });
    expect(candidate(report, "vulkan").reason).toBe("vulkan: the render nodes belong to no known GPU vendor");
    expect(candidate(report, "vulkan").evidence).toContain(
      "unknown-vendor GPU ? (renderD128, vendor 0x1af4) (not a known GPU vendor)",
    );
  });

  it("WSL: /dev/dxg with the WSL libcuda counts as NVIDIA hardware", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({
        files: { "/dev/dxg": "" },
        libraries: { "libcuda.so.1": "/usr/lib/wsl/lib/libcuda.so.1" },
        packages: allPackages,
        engine: {
          cuda: { deviceNames: ["NVIDIA GeForce RTX 4090"], totalBytes: 24 * gib, freeBytes: 22 * gib },
        },
      }),
    });
    expect(report.chosen).toBe("cuda");
    // Without nvidia-smi the engine's own view names the device and its memory.
    expect(report.devices).toEqual([
      {
        backend: "cuda",
        index: 0,
        name: "NVIDIA GeForce RTX 4090",
        vendor: "other",
        totalBytes: 24 * gib,
        freeBytes: 22 * gib,
        isUnifiedMemory: false,
        source: "engine",
      },
    ]);
  });

  it("reports CUDA unified memory when GGML_CUDA_ENABLE_UNIFIED_MEMORY=1", async () => {
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ ...nvidiaMachine, env: { GGML_CUDA_ENABLE_UNIFIED_MEMORY: "1" } }),
    });
    expect(report.unifiedMemory.isCudaUnifiedMemoryEnabled).toBe(true);
  });

  it("no CPU engine build: the CPU is still the answer, with a reason that says loading will fail", async () => {
    const report = await detectGpu({ requested: "auto", probes: fakeProbes({ packages: [] }) });
    expect(report.chosen).toBe("cpu");
    expect(candidate(report, "cpu")).toMatchObject({
      isUsable: false,
      reason:
        "cpu: no engine build for linux-x64 (@node-llama-cpp/linux-x64 is not installed); loading a model will fail",
    });
  });
});

describe("detectGpu timing", () => {
  it("stamps and times detection on its time port", async () => {
    const time = new FakeTime({ wallMs: Date.UTC(2026, 5, 1, 8, 30) });
    const report = await detectGpu({
      requested: "auto",
      probes: fakeProbes({ packages: allPackages }),
      time,
    });
    expect(report.detectedAt).toBe("2026-06-01T08:30:00.000Z");
    expect(report.detectMs).toBe(0);
  });
});
