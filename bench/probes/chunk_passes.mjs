#!/usr/bin/env node
// How many forward passes the engine runs for the corpus benchmark's texts under embedBatch's
// chunking, against one call for them all: the chunks as engine.js cuts them (chunkEnd) at their
// largest (8 KiB a thread: a fast model's; a slow one's hold 500 ms of work), each
// packed as the engine packs one call — consecutive texts up to `pack_tokens` (256) tokens, one
// of that many or more alone (Embedder::Embed, src/embed/embedder.cc). Token counts from the
// model's tokenizer. A pass costs its tokens plus a fixed part (reading and preparing every
// weight), so a chunking that adds passes costs time; one that does not, none.
//
// --text-cost sets what a text costs beyond its bytes (the package's 64; 0 is the chunking
// before 7cfe723, by bytes alone).
//
//   node bench/probes/chunk_passes.mjs [--model M.gguf] [--texts 150,2000] [--threads 1]
//                                      [--text-cost 0,64]
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { loadEmbedder } from "../../js/dist/index.js";
import { chunkEnd } from "../../js/dist/engine.js";
import { makeCorpus } from "../corpus_texts.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values: opts } = parseArgs({
  options: {
    model: { type: "string", default: join(ROOT, "build", "models", "300m-q8_0.gguf") },
    texts: { type: "string", default: "150,2000" },
    threads: { type: "string", default: "1" },
    "text-cost": { type: "string", default: "0,64" },
  },
});
const PACK_TOKENS = 256;  // BatchOptions::pack_tokens's default (include/ggufembed/embedder.h)

function passes(tokens, from, to) {
  let count = 0, packed = 0, open = false;
  for (let i = from; i < to; i++) {
    if (tokens[i] >= PACK_TOKENS) {
      count++;
      open = false;
    } else {
      if (!open || packed + tokens[i] > PACK_TOKENS) [count, packed, open] = [count + 1, 0, true];
      packed += tokens[i];
    }
  }
  return count;
}

const embedder = await loadEmbedder(opts.model, { quiet: true, worker: false });
const counts = opts.texts.split(",").map(Number);
const corpus = makeCorpus(Math.max(...counts));
const tokens = [], bytes = [];
for (const { text } of corpus) {
  tokens.push((await embedder.tokenize(text)).length);
  bytes.push(new TextEncoder().encode(text).length);
}
embedder.dispose();
for (const n of counts) {
  const total = tokens.slice(0, n).reduce((a, b) => a + b, 0);
  console.log(`${n} texts (${total} tokens): one call ${passes(tokens, 0, n)} passes`);
  for (const cost of opts["text-cost"].split(",").map(Number)) {
    let chunks = 0, chunked = 0;
    for (let start = 0; start < n; chunks++) {
      const threads = Number(opts.threads);
      const { end } = chunkEnd(n, start, 8192 * threads, threads, 0, (i) => bytes[i], cost);
      chunked += passes(tokens, start, end);
      start = end;
    }
    console.log(`  chunks of 8 KiB a thread, ${cost} bytes a text beyond its own: ${chunks} chunks, ` +
                `${chunked} passes`);
  }
}
