/** StreamingInferenceAPI: OpenAI- and Ollama-compatible HTTP routes over one native path, SSE/NDJSON streaming. */
export { createApiApp } from "./app.js";
export { withDirectStreams } from "./frame-writer.js";
export type { ApiDeps } from "./deps.js";
export { statusFor, errorBody, dialectOf, type Dialect } from "./error-status.js";
export { RequestDrain } from "./request-drain.js";
export { callerIdentity } from "./caller.js";
export { redactorFor } from "./client-paths.js";
