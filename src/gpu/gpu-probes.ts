/**
 * Everything detection reads from the machine, behind one injectable interface: tests pass
 * fake device files, libraries, tool output and engine builds (see fake-probes.ts).
 */
import type { EngineBackend, HostMemory } from "./gpu-report.js";

export interface EngineProbeResult {
  isOk: boolean;
  /** The engine's error, or what it saw: backend, device names, memory. */
  detail: string;
  /** Device names and memory as the engine reports them, when the probe loaded. */
  deviceNames: string[];
  totalBytes: number;
  freeBytes: number;
  unifiedBytes: number;
}

export interface GpuProbes {
  /** node-llama-cpp's platform name: "linux", "win", "mac". */
  readonly platform: string;
  readonly arch: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  exists(path: string): Promise<boolean>;
  /** Entry names of a directory; empty when it is missing or unreadable. */
  list(directory: string): Promise<string[]>;
  /** File text, or undefined when missing or unreadable. */
  readText(path: string): Promise<string | undefined>;
  /** A tool's stdout when it ran and exited 0 within a few seconds, else undefined. */
  run(command: string, args: readonly string[]): Promise<string | undefined>;
  /** Where the dynamic linker (ldconfig cache, LD_LIBRARY_PATH, usual folders) finds the first of `names`. */
  findLibrary(names: readonly string[]): Promise<string | undefined>;
  /** Installed @node-llama-cpp/* packages ("linux-x64-cuda", …). */
  enginePackages(): Promise<string[]>;
  /** node-llama-cpp local builds (folder names). */
  localBuilds(): Promise<string[]>;
  hostMemory(): Promise<HostMemory>;
  /** Loads the engine for `backend` in a child process, so a native crash cannot hurt the caller. */
  probeEngine(backend: EngineBackend): Promise<EngineProbeResult>;
}
