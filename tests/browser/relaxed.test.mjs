// The relaxed-SIMD build in Chromium: detection says yes, and its vectors are the SIMD128
// build's and the native CLI's bits for both architectures — forced, and as `simd: "auto"` loads
// it, with Q8_0 weights on the relaxed kernel or not as the timing at load found.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { SHORT_TEXTS } from "../node/corpus.mjs";
import { runCli, synthTinyModels } from "../node/gguf_util.mjs";
import { launchChromium, serve } from "./browser_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-browser-relaxed-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const models = synthTinyModels(dir);
const TEXTS = [...SHORT_TEXTS, "Embedding models map text to vectors. ".repeat(30)];
const extra = {
  "/blank.html": { body: "<!doctype html><title>relaxed</title>", type: "text/html" },
  "/model.gguf": models["gemma-embedding"],
  "/model2.gguf": models["gemma-embedding2"],
};

let served, browser;
before(async () => {
  served = await serve({ extra });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  served?.server.close();
});

// Float32 bits of a vector, as base64.
const base64 = (f32) => Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength).toString("base64");

for (const [arch, modelPath] of [["gemma-embedding", "/model.gguf"], ["gemma-embedding2", "/model2.gguf"]]) {
  test(`${arch}: Chromium detects relaxed SIMD and the relaxed build gives the SIMD128 and native bits`, async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${served.base}/blank.html`);
    const seen = await page.evaluate(async ({ modelPath, texts }) => {
      const { relaxedDotIsFast, relaxedDotSpeed, relaxedSimdWorks } = await import("/js/dist/wasm_features.js");
      const { loadEmbedder } = await import("/js/dist/index.js");
      const bits = (v) => btoa(String.fromCharCode(...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
      const embed = async (options) => {
        const embedder = await loadEmbedder(modelPath, { ...options, worker: false, threads: 1, quiet: true });
        const vectors = (await embedder.embedBatch(texts)).map((e) => bits(e.vector));
        embedder.dispose();
        return { vectors, build: embedder.build, relaxedInt32Dot: embedder.relaxedInt32Dot };
      };
      return {
        works: await relaxedSimdWorks(),
        speed: await relaxedDotSpeed(),
        fast: await relaxedDotIsFast(),
        agent: navigator.userAgent,
        relaxed: await embed({ wasm: "/js/dist/relaxed/ggufembed-relaxed.wasm" }),
        simd128: await embed({ wasm: "/js/dist/ggufembed.wasm" }),
        forced: await embed({ simd: "relaxed" }),
        auto: await embed({ simd: "auto" }),
      };
    }, { modelPath, texts: TEXTS });
    await page.close();
    assert.deepEqual(errors, []);
    assert.equal(seen.works, true, seen.agent);
    // The timing: both loops ran (billions of products per second), and auto followed it.
    for (const rate of [seen.speed.relaxed, seen.speed.dotI16x8]) assert.ok(rate > 0.1 && rate < 1e4, rate);
    // Whether each module runs the kernels on the int32 relaxed dot, as the module itself reports it.
    assert.equal(seen.relaxed.relaxedInt32Dot, true);
    assert.equal(seen.simd128.relaxedInt32Dot, false);
    assert.equal(seen.relaxed.build, "relaxed-simd");  // modules given by URL named for what they hold
    assert.equal(seen.simd128.build, "simd128");
    assert.equal(seen.forced.build, "relaxed-simd");
    assert.equal(seen.forced.relaxedInt32Dot, true);
    assert.equal(seen.auto.build, "relaxed-simd");
    assert.equal(seen.auto.relaxedInt32Dot, seen.fast, JSON.stringify(seen.speed));
    const r = runCli(["embed", "-q", "-m", extra[modelPath], "-f", "raw", "--", ...TEXTS]);
    assert.equal(r.status, 0, r.stderr);
    const native = r.stdout.trimEnd().split("\n").map((l) => base64(Float32Array.from(l.split(" ").map(Number))));
    for (const run of ["relaxed", "forced", "auto"]) {
      assert.equal(seen[run].vectors.length, TEXTS.length);
      for (let i = 0; i < TEXTS.length; i++) {
        assert.equal(seen[run].vectors[i], seen.simd128.vectors[i], `${run} vs SIMD128: ${JSON.stringify(TEXTS[i])}`);
        assert.equal(seen[run].vectors[i], native[i], `${run} vs native: ${JSON.stringify(TEXTS[i])}`);
      }
    }
  });
}
