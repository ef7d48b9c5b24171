// The browser demo in headless Chromium (Debian's, driven by playwright-core): it loads a model
// (EmbeddingGemma and EmbeddingGemma 2) by URL and from a file input, embeds the default texts,
// and matches the native CLI.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import { runCli } from "../node/gguf_util.mjs";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), "ggufembed-browser-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, "tiny.gguf");
assert.equal(runCli(["synth", "--preset", "tiny", "-o", model]).status, 0);
const model2 = join(dir, "eg2-tiny.gguf");
assert.equal(runCli(["synth", "--arch", "gemma-embedding2", "--preset", "tiny", "-o", model2]).status, 0);
const SERVED = { "/model.gguf": model, "/model2.gguf": model2 };

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
                ".wasm": "application/wasm", ".gguf": "application/octet-stream" };

// Serves the repository read-only, plus the test models at /model.gguf and /model2.gguf.
function serve() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = SERVED[path] ?? normalize(join(root, path));
    if (!file.startsWith(root) && !SERVED[path] || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

let server, browser, base;
before(async () => {
  server = await serve();
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // This machine's network is closed: keep Chromium from trying to reach Google.
    args: ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run"],
  });
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
