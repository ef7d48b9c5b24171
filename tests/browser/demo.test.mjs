// The browser demo in headless Chromium (Debian's, driven by playwright-core): it loads a model
// (EmbeddingGemma and EmbeddingGemma 2) by URL and from a file input, embeds the default texts,
// and matches the native CLI.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { runCli, synthTinyModels } from "../node/gguf_util.mjs";
import { launchChromium, serve } from "./browser_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-browser-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const { "gemma-embedding": model, "gemma-embedding2": model2 } = synthTinyModels(dir);

let server, browser, base;
before(async () => {
  ({ server, base } = await serve({ extra: { "/model.gguf": model, "/model2.gguf": model2 } }));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const DEFAULT_TEXTS = ["The cat sleeps on the sofa.", "A kitten naps on the couch.",
                       "Stock markets fell sharply today."];

async function embedOnPage(page) {
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("ready"));
  await page.click("#embed");
  await page.waitForFunction(() => window.__results !== undefined);
  return page.evaluate(() => window.__results);
}

test("the demo embeds in Chromium exactly like the native CLI", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/examples/browser/index.html?model=/model.gguf`);
  const vectors = await embedOnPage(page);
  const native = runCli(["embed", "-q", "-m", model, "-f", "jsonl", ...DEFAULT_TEXTS]).stdout
    .trim().split("\n").map((l) => JSON.parse(l).embedding);
  assert.equal(vectors.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(vectors[i], native[i].map(Math.fround), `text ${i} differs from native`);
  }
  const cells = await page.$$eval("#matrix td", (tds) => tds.map((td) => Number(td.textContent)));
  assert.equal(cells.length, 9);
  assert.equal(cells[0], 1);
  await page.screenshot({ path: join(dir, "demo.png") });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the demo embeds with an EmbeddingGemma 2 model and its task prompts like the native CLI", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/examples/browser/index.html?model=/model2.gguf`);
  await page.waitForFunction(() => document.getElementById("status").textContent.includes("ready"));
  const prompts = await page.$$eval("#prompt option", (options) => options.map((o) => o.value));
  assert.deepEqual(prompts, ["", "query", "document", "question-answering", "fact-checking",
                             "classification", "clustering", "sentence-similarity",
                             "code-retrieval"]);
  await page.selectOption("#prompt", "query");
  const vectors = await embedOnPage(page);
  const native = runCli(["embed", "-q", "-m", model2, "-p", "query", "-f", "jsonl",
                         ...DEFAULT_TEXTS]).stdout
    .trim().split("\n").map((l) => JSON.parse(l).embedding);
  assert.equal(vectors.length, 3);
  assert.equal(vectors[0].length, 96);  // the tiny preset's n_embd_out
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(vectors[i], native[i].map(Math.fround), `text ${i} differs from native`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("the demo loads a model picked in the file input", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/examples/browser/index.html`);
  await page.setInputFiles("#file", model);
  await page.selectOption("#dim", "128");
  const vectors = await embedOnPage(page);
  assert.equal(vectors[0].length, 128);
  await page.close();
});

test("a missing model shows the error on the page", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/examples/browser/index.html?model=/nope.gguf`);
  await page.waitForFunction(() => document.getElementById("status").className === "error");
  assert.match(await page.textContent("#status"), /^io_error: cannot fetch .*nope\.gguf: HTTP 404$/);
  await page.close();
});
