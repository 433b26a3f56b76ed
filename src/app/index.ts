/** Composition root: wires every component from one Config and owns start and stop order. */
export { startServer, type StartOptions, type RunningServer } from "./server.js";
export { isLoopback, checkExposure } from "./security.js";
export { localGpuReport, type GpuReportBody } from "./gpu-routes.js";
