/**
 * InferenceEngine: the contract, the real engine (one node-llama-cpp runner process per model,
 * typed IPC, credit-based flow control) and FakeEngine for tests.
 */
export type {
  InferenceEngine,
  ModelRunner,
  LoadSpec,
  LoadedModelInfo,
  RunnerExit,
  GpuChoice,
  EngineBuildChoice,
  RunnerTuning,
  SpeculativeMode,
  StreamLend,
} from "./contract.js";
export { speculativeModes } from "./contract.js";
export { LlamaCppEngine } from "./llama-cpp-engine.js";
export { hasOpenmpBuild, openmpBuildOptions } from "./engine-build.js";
export { RunnerProcess } from "./runner-process.js";
export { FakeEngine, defaultFakeReply, type FakeModelBehaviour, type FakeRunner } from "./fake-engine.js";
export { type FakeToolCall } from "./fake-tool-calls.js";
export { StopMatcher } from "./stop-matcher.js";
export { renderPlainChat, plainChatStops } from "./plain-chat.js";
