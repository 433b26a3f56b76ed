/**
 * A machine described as data, for tests: files, libraries, tool output, engine builds and probe results.
 * It ships (not a *.testing.ts helper) because `StartOptions.gpuProbes` takes it: a fake beside its port.
 */
import type { EngineProbeResult, GpuProbes } from "./gpu-probes.js";
import type { EngineBackend, HostMemory } from "./gpu-report.js";

export interface FakeMachine {
  platform?: string;
  arch?: string;
  env?: Record<string, string | undefined>;
  /** Paths that exist, with their text (empty for device files). Directories exist implicitly. */
  files?: Record<string, string>;
  /** Library name → path the linker would load. */
  libraries?: Record<string, string>;
  /** Command → stdout; a missing command "is not installed". */
  tools?: Record<string, string>;
  /** Installed @node-llama-cpp/* packages; default: the CPU build only. */
  packages?: string[];
  localBuilds?: string[];
  host?: HostMemory;
  /** Engine probe per backend: a result, or a failure message. Default: it loads. */
  engine?: Partial<Record<EngineBackend, Partial<EngineProbeResult> | string>>;
}

export function fakeProbes(machine: FakeMachine = {}): GpuProbes & { probed: EngineBackend[] } {
  const files = machine.files ?? {};
  const paths = Object.keys(files);
  const probed: EngineBackend[] = [];
  const platform = machine.platform ?? "linux";
  const arch = machine.arch ?? "x64";
  return {
    platform,
    arch,
    env: machine.env ?? {},
    probed,
    exists: async (path) => paths.some((file) => file === path || file.startsWith(`${path}/`)),
    list: async (directory) => {
      const prefix = `${directory.replace(/\/$/, "")}/`;
      return [
        ...new Set(
          paths
            .filter((file) => file.startsWith(prefix))
            .map((file) => file.slice(prefix.length).split("/")[0]!),
        ),
      ];
    },
    readText: async (path) => files[path],
    run: async (command) => machine.tools?.[command],
    findLibrary: async (names) =>
      names.map((name) => machine.libraries?.[name]).find((path) => path !== undefined),
    enginePackages: async () => machine.packages ?? [`${platform}-${arch}`],
    localBuilds: async () => machine.localBuilds ?? [],
    hostMemory: async () =>
      machine.host ?? { totalBytes: 16 * 1024 ** 3, availableBytes: 12 * 1024 ** 3, swapTotalBytes: 0 },
    probeEngine: async (backend) => {
      probed.push(backend);
      const outcome = machine.engine?.[backend];
      if (typeof outcome === "string")
        return {
          isOk: false,
          detail: outcome,
          deviceNames: [],
          totalBytes: 0,
          freeBytes: 0,
          unifiedBytes: 0,
        };
      return {
        isOk: true,
        detail: `prebuilt ${backend} build loaded`,
        deviceNames: [],
        totalBytes: 0,
        freeBytes: 0,
        unifiedBytes: 0,
        ...outcome,
      };
    },
  };
}
