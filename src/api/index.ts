/** StreamingInferenceAPI: OpenAI- and Ollama-compatible HTTP routes over one native path, SSE/NDJSON streaming. */
export { createApiApp } from "./app.js";
export type { ApiDeps } from "./deps.js";
export { statusFor, errorBody, dialectOf, type Dialect } from "./error-status.js";
export { RequestDrain } from "./request-drain.js";
export { callerIdentity } from "./caller.js";
