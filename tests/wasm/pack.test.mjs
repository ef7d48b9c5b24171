// The npm package as users get it: `npm pack` of js/ (its dist/, assembled by the wasm build),
// installed offline into a fresh project, imported by name; it embeds like js/dist itself, and
// its type declarations resolve through the package's "exports".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { loadEmbedder } from "../../js/dist/index.js";
import { runCli } from "../node/gguf_util.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const jsDir = join(root, "js");
const pkg = JSON.parse(readFileSync(join(jsDir, "package.json"), "utf8"));
const dir = mkdtempSync(join(tmpdir(), "ggufembed-pack-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, "tiny.gguf");
assert.equal(runCli(["synth", "--preset", "tiny", "-o", model]).status, 0);

// npm with its own cache in the temporary directory, offline: nothing is downloaded.
function npm(args, cwd) {
  const r = spawnSync("npm", [...args, "--offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_cache: join(dir, "npm-cache"), npm_config_update_notifier: "false" },
  });
  assert.equal(r.status, 0, `npm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("npm pack, install offline, import by name and embed", { timeout: 120000 }, async () => {
  const [packed] = JSON.parse(npm(["pack", jsDir, "--pack-destination", dir, "--json"], dir));
  assert.equal(packed.name, "ggufembed");
  assert.equal(packed.filename, `ggufembed-${pkg.version}.tgz`);
  assert.deepEqual(packed.files.map((f) => f.path).sort(), [
    "LICENSE", "README.md", "dist/cache.js", "dist/engine.js", "dist/errors.js",
    "dist/ggufembed.mjs", "dist/ggufembed.wasm", "dist/heap.js", "dist/index.d.ts", "dist/index.js",
    "dist/layout.js", "dist/load.js", "dist/module.js", "dist/relaxed/ggufembed-relaxed.mjs", "dist/relaxed/ggufembed-relaxed.wasm",
    "dist/remote.js", "dist/threads/ggufembed-threads-relaxed.wasm", "dist/threads/ggufembed-threads.js",
    "dist/threads/ggufembed-threads.wasm", "dist/threads/ggufembed-threads.worker.js",
    "dist/threads/package.json", "dist/wasm_features.js", "dist/worker.js", "package.json"]);
  assert.equal(readFileSync(join(jsDir, "LICENSE"), "utf8"), readFileSync(join(root, "LICENSE"), "utf8"));
  assert.ok(pkg.repository?.url && pkg.keywords?.includes("embeddinggemma"));
  assert.equal(pkg.engines.node, ">=20.19");

  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"),
    JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
  npm(["install", join(dir, packed.filename)], app);
  const installed = JSON.parse(readFileSync(join(app, "node_modules/ggufembed/package.json"), "utf8"));
  assert.equal(installed.version, pkg.version);

  const TEXT = "Installed from the tarball.";
  writeFileSync(join(app, "main.mjs"), `
    import { loadEmbedder, cosineSimilarity, GgufembedError } from "ggufembed";
    const e = await loadEmbedder(process.argv[2]);
    const r = await e.embed(${JSON.stringify(TEXT)}, { prompt: "query", dim: 64 });
    const err = await e.embed("x", { dim: 1000 }).catch((x) => x);
    console.log(JSON.stringify({ name: e.info.name, vector: Array.from(r.vector),
      self: cosineSimilarity(r.vector, r.vector), error: err instanceof GgufembedError && err.code,
      wasm: import.meta.resolve("ggufembed/ggufembed.wasm").endsWith("node_modules/ggufembed/dist/ggufembed.wasm") }));
    e.dispose();
  `);
  const run = spawnSync(process.execPath, ["main.mjs", model], { cwd: app, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  const local = await loadEmbedder(model);
  const expect = Array.from((await local.embed(TEXT, { prompt: "query", dim: 64 })).vector);
  local.dispose();
  assert.ok(Math.abs(out.self - 1) < 1e-6, String(out.self));
  assert.deepEqual({ ...out, self: undefined }, { name: "Synthetic EmbeddingGemma tiny", vector: expect,
                                                 self: undefined, error: "invalid_argument", wasm: true });
  assert.equal(expect.length, 64);

  // CommonJS code requires the ES module (Node >= 20.19, the package's engines floor).
  writeFileSync(join(app, "main.cjs"), `
    const { loadEmbedder } = require("ggufembed");
    loadEmbedder(process.argv[2]).then(async (e) => {
      const r = await e.embed(${JSON.stringify(TEXT)}, { prompt: "query", dim: 64 });
      console.log(JSON.stringify(Array.from(r.vector)));
      e.dispose();
    });
  `);
  const cjs = spawnSync(process.execPath, ["main.cjs", model], { cwd: app, encoding: "utf8" });
  assert.equal(cjs.status, 0, cjs.stderr);
  assert.deepEqual(JSON.parse(cjs.stdout), expect);

  // A TypeScript consumer resolves the package's types by name.
  writeFileSync(join(app, "main.ts"), `
    import { loadEmbedder, type Embedding, type GgufInfo } from "ggufembed";
    const e = await loadEmbedder("m.gguf", { quiet: true });
    const r: Embedding = await e.embed("text", { prompt: "query" });
    const v: Float32Array = r.vector;
    const size: GgufInfo["fileSize"] = v.length;
    // @ts-expect-error: unknown option
    await e.embed("text", { dims: 3 });
    export { size };
  `);
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit",
    "--strict", "--target", "es2022", "--module", "nodenext", "--lib", "es2022,dom", "main.ts"],
    { cwd: app, encoding: "utf8" });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});
