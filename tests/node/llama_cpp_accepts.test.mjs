// llama.cpp (node-llama-cpp) loads the synthetic models and embeds with them: the generator's
// layout, metadata types and vocabulary are what llama.cpp expects.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { openLlamaCppModel } from "./llama_cpp.mjs";

const models = process.env.GGUFEMBED_MODELS;

for (const [file, nEmbd] of [["tiny-q8_0.gguf", 128], ["tiny-f16-nodense.gguf", 128], ["300m-q8_0.gguf", 768]]) {
  test(`llama.cpp embeds with ${file}`, async () => {
    const model = await openLlamaCppModel(join(models, file));
    try {
      const v = await model.embed("The quick brown fox jumps over the lazy dog.");
      assert.equal(v.length, nEmbd);
      assert.ok(v.every(Number.isFinite), "all components finite");
      const norm = Math.hypot(...v);
      assert.ok(norm > 0.1 && norm < 1000, `raw norm ${norm}`);
      // Special tokens typed CONTROL are parsed from text: "<bos>" is id 2 in the synthetic vocab.
      assert.deepEqual(model.tokenize("<bos>"), [2]);
    } finally {
      await model.dispose();
    }
  });
}
