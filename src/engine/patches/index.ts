/** Fixes applied to the pinned node-llama-cpp at install (ADR 0042). */
export {
  enginePatches,
  applyPatch,
  isPatchApplied,
  patchEngine,
  patchedVersion,
  type EnginePatch,
} from "./engine-patches.js";
