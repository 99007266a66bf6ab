// Bundles the extension (and, with --tests, the pure-logic tests) with esbuild.
import { build } from "esbuild";

const tests = process.argv.includes("--tests");

if (tests) {
  await build({
    entryPoints: ["test/status.test.ts"],
    bundle: true,
    platform: "node",
    format: "cjs",
    outdir: "out/test",
    logLevel: "warning",
  });
} else {
  await build({
    entryPoints: ["src/extension.ts"],
    bundle: true,
    platform: "node",
    format: "cjs",
    external: ["vscode"],
    outfile: "dist/extension.js",
    sourcemap: true,
    minify: true,
    logLevel: "warning",
  });
}
