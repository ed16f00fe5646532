// Builds the console into a directory of static files served by `riposte serve`:
//   OUT/index.html, OUT/assets/app.js, OUT/assets/app.css
// Usage: node build.mjs [OUT]   (default: dist/)
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "dist"));

rmSync(join(out, "assets"), { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

await build({
  entryPoints: { app: join(here, "src/main.ts"), },
  bundle: true,
  format: "esm",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "none",
  outdir: join(out, "assets"),
  logLevel: "warning",
});
await build({
  entryPoints: { app: join(here, "src/styles.css") },
  bundle: true,
  minify: true,
  outdir: join(out, "assets"),
  logLevel: "warning",
});
copyFileSync(join(here, "index.html"), join(out, "index.html"));
console.log(`console built into ${out}`);
