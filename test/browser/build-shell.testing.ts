/** Vitest global set-up of the browser project: web/dist must exist and be current before Chromium opens it. */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["--import", "tsx", "scripts/ensure-web-build.ts"], { stdio: "inherit" });
}
