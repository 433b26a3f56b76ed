/**
 * `npm ci` (the `prepare` script) and `npm start` (`prestart`) run this: the browser shell into
 * web/dist, then the server into dist/, each only when its sources changed since its last build.
 */
await import("./ensure-web-build.js");
await import("./ensure-server-build.js");
