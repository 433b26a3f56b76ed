/** llama-server's routes name no model: without `model`, the only installed model answers. */
import { AppError } from "../core/index.js";
import type { ApiDeps } from "./deps.js";

export async function onlyModel(deps: Pick<ApiDeps, "catalog">, route: string): Promise<string> {
  const models = await deps.catalog.list();
  if (models.length === 1) return models[0]!.name;
  throw new AppError(
    "bad-request",
    models.length === 0
      ? `No model is installed; pull one first (rawrxd pull), then send ${route} again.`
      : `Several models are installed; name one in the request's "model" field (${models.map((entry) => entry.name).join(", ")}).`,
    { param: "model" },
  );
}
