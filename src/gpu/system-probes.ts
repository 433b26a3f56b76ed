/** The real GpuProbes: /dev and /sys files, ldconfig, vendor tools, node_modules, a child-process engine probe. */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { access, readFile, readdir } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineProbeResult, GpuProbes } from "./gpu-probes.js";
import type { EngineBackend } from "./gpu-report.js";
import { readHostMemory } from "./host-memory.js";

const toolTimeoutMs = 5_000;
/** The engine probe forks getLlama's own binary test too: give it time on a busy machine. */
const engineProbeTimeoutMs = 90_000;
const isTypeScriptSource = import.meta.url.endsWith(".ts");
const probeChildPath = fileURLToPath(
  new URL(isTypeScriptSource ? "./engine-probe-child.ts" : "./engine-probe-child.js", import.meta.url),
);

/** Folders the dynamic linker usually searches, besides its cache. */
const libraryFolders = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/lib/x86_64-linux-gnu",
  "/usr/local/cuda/lib64",
  "/usr/lib/wsl/lib",
  "/opt/rocm/lib",
];

const engineProbes = new Map<EngineBackend, Promise<EngineProbeResult>>();

export function nodeLlamaCppPlatform(platform: NodeJS.Platform): string {
  if (platform === "win32") return "win";
  if (platform === "darwin") return "mac";
  return platform;
}

export function systemProbes(env: Readonly<Record<string, string | undefined>> = process.env): GpuProbes {
  let linkerCache: Promise<Map<string, string>> | undefined;
  const exists = async (path: string): Promise<boolean> =>
    access(path).then(
      () => true,
      () => false,
    );
  const run = (command: string, args: readonly string[]): Promise<string | undefined> =>
    new Promise((resolve) => {
      execFile(
        command,
        args,
        { timeout: toolTimeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: "utf8" },
        (error, stdout) => resolve(error ? undefined : stdout),
      );
    });
  return {
    platform: nodeLlamaCppPlatform(process.platform),
    arch: process.arch,
    env,
    exists,
    list: async (directory) => readdir(directory).catch(() => []),
    readText: async (path) => readFile(path, "utf8").catch(() => undefined),
    run,
    async findLibrary(names) {
      linkerCache ??= run("ldconfig", ["-p"]).then(async (output) =>
        parseLdconfig(output ?? (await run("/sbin/ldconfig", ["-p"])) ?? ""),
      );
      const cache = await linkerCache;
      for (const name of names) {
        const cached = cache.get(name);
        if (cached !== undefined) return cached;
      }
      const folders = [
        ...(env["LD_LIBRARY_PATH"] ?? "").split(delimiter).filter((folder) => folder !== ""),
        ...libraryFolders,
      ];
      for (const name of names) {
        for (const folder of folders) {
          if (await exists(join(folder, name))) return join(folder, name);
        }
      }
      return undefined;
    },
    enginePackages: async () => {
      const found = await Promise.all(engineScopeFolders().map((folder) => readdir(folder).catch(() => [])));
      return [...new Set(found.flat())].sort();
    },
    localBuilds: async () => {
      const root = nodeLlamaCppRoot();
      return root === undefined ? [] : readdir(join(root, "llama", "localBuilds")).catch(() => []);
    },
    hostMemory: readHostMemory,
    probeEngine: (backend) => {
      // Whether a build loads does not change while this process runs: probe each backend once.
      let result = engineProbes.get(backend);
      if (result === undefined) {
        result = runEngineProbe(backend);
        engineProbes.set(backend, result);
      }
      return result;
    },
  };
}

/** `ldconfig -p` lines: `\tlibcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1`. */
export function parseLdconfig(output: string): Map<string, string> {
  const libraries = new Map<string, string>();
  for (const match of output.matchAll(/^\s*(\S+)\s+\([^)]*\)\s+=>\s+(\S+)\s*$/gm)) {
    if (!libraries.has(match[1]!)) libraries.set(match[1]!, match[2]!);
  }
  return libraries;
}

function nodeLlamaCppRoot(): string | undefined {
  try {
    // …/node_modules/node-llama-cpp/dist/index.js → …/node_modules/node-llama-cpp
    // Resolving the path loads nothing (the package's "node" export condition points at dist/index.js).
    return dirname(dirname(createRequire(import.meta.url).resolve("node-llama-cpp")));
  } catch {
    return undefined;
  }
}

/** The optional prebuilt packages sit beside node-llama-cpp, or inside it when npm nested them. */
function engineScopeFolders(): string[] {
  const root = nodeLlamaCppRoot();
  if (root === undefined) return [];
  return [join(dirname(root), "@node-llama-cpp"), join(root, "node_modules", "@node-llama-cpp")];
}

function runEngineProbe(backend: EngineBackend): Promise<EngineProbeResult> {
  const failed = (detail: string): EngineProbeResult => ({
    isOk: false,
    detail,
    deviceNames: [],
    totalBytes: 0,
    freeBytes: 0,
    unifiedBytes: 0,
  });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(isTypeScriptSource ? ["--import", "tsx"] : []), probeChildPath, backend],
      { timeout: engineProbeTimeoutMs, maxBuffer: 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const lastLine = stdout.trim().split("\n").at(-1) ?? "";
        try {
          resolve(JSON.parse(lastLine) as EngineProbeResult);
        } catch {
          const why = error?.signal
            ? `ended by ${error.signal}`
            : (stderr.trim().split("\n").at(-1) ?? error?.message ?? "no answer");
          resolve(failed(`the engine probe failed: ${why}`));
        }
      },
    );
  });
}
