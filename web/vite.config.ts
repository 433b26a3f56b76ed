// The shell's build (`vite build web`, root = web/): Preact through esbuild's automatic JSX
// runtime (no framework plugin), hashed assets under /assets/, and no inline script anywhere
// (the server's Content-Security-Policy forbids them).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Vite inlines its modulepreload polyfill into index.html by default.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
