// Our gemma4 tokenizer on Gemma's real vocabulary against Hugging Face's own tokenizer
// (@huggingface/tokenizers with the same tokenizer.json): identical ids for the whole corpus and
// texts of 600 and 3,000 tokens. The model is $GGUFEMBED_MODEL, made with
// `synth --vocab $GGUFEMBED_GEMMA_TOKENIZER_JSON`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";

import { Tokenizer } from "@huggingface/tokenizers";
import { SHORT_TEXTS, proseOfTokens } from "./corpus.mjs";
import { runCli } from "./gguf_util.mjs";

const modelPath = process.env.GGUFEMBED_MODEL;
const jsonPath = process.env.GGUFEMBED_GEMMA_TOKENIZER_JSON;

test("gemma4 token ids equal Hugging Face's on Gemma's real vocabulary", () => {
  assert.ok(modelPath && jsonPath, "GGUFEMBED_MODEL and GGUFEMBED_GEMMA_TOKENIZER_JSON must be set");
  const hf = new Tokenizer(JSON.parse(readFileSync(jsonPath, "utf8")),
                           JSON.parse(readFileSync(join(dirname(jsonPath), "tokenizer_config.json"),
                                                   "utf8")));
  // Ours with BOS/EOS (the file adds both) and special-token text parsed; Hugging Face parses
  // added tokens in the text too, and BOS/EOS are added here.
  const ours = (text) => {
    const r = runCli(["tokenize", "-m", modelPath, "--", text]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const theirs = (text) => [2, ...hf.encode(text, { add_special_tokens: false }).ids, 1];
  const texts = [...SHORT_TEXTS, proseOfTokens(600, (s) => theirs(s).length),
                 proseOfTokens(3000, (s) => theirs(s).length)];
  let tokens = 0;
  for (const text of texts) {
    const want = theirs(text);
    assert.deepEqual(ours(text), want, JSON.stringify(text).slice(0, 60));
    tokens += want.length;
  }
  assert.ok(tokens > 3600);
});
