/** Settings: one table of env names, flags, defaults and parsers, resolved once into a frozen Config. */
export { loadConfig, type ConfigSources } from "./load-config.js";
export { describeSettings } from "./describe-settings.js";
export { nearestName } from "./nearest-name.js";
export { settings, type Config, type Setting } from "./settings.js";
export { parseDurationMs } from "./parsers.js";
