/**
 * Models: the catalog of GGUF files in the models folder (names, headers, digests, manifest)
 * and `pullModel`, which downloads, verifies and installs a model file.
 */
export { ModelCatalog, type ModelCatalogOptions, type CatalogContents } from "./model-catalog.js";
export { prepareModelsLocation, demoModelPath, type ModelsLocation } from "./models-location.js";
export type { ModelEntry, ModelFile, InvalidModelFile, CatalogScan, ReadHeader } from "./model-entry.js";
export { pullModel, type PullOptions, type PullProgress, type PullResult } from "./pull-model.js";
export { parsePullSource, defaultHuggingFaceEndpoint, type PullSource } from "./pull-source.js";
export { normalizeModelName, modelNameFromFileName } from "./model-name.js";
export { hashFileSha256, parseSha256Hex, type HashFile } from "./file-digest.js";
export { manifestFileName } from "./manifest.js";
export {
  checkChatTemplate,
  type ChatTemplateCheckOptions,
  type ChatTemplateVerdict,
} from "./chat-template-check.js";
/** Fill-in-the-middle token ids of a model file, from its header metadata. */
export { fimTokenIds, type FimTokenIds } from "../gguf/index.js";
