// The semantic-search demo (examples/browser/) in headless Chromium (Debian's, driven by
// playwright-core), on the tiny synthetic models of both architectures: a model loaded by URL
// with a progress bar, documents ranked for a query with the scores and order of a cosine ranking
// of the native CLI's vectors, the heatmap, per-text timing, the model kept in the cache (a reload
// downloads nothing; clearing works), a picked file kept, errors shown as alerts, the model's own
// prompts, and a phone-sized screen without horizontal overflow.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";

import { runCli, synthTinyModels } from "../node/gguf_util.mjs";
import { launchChromium, serve } from "./browser_util.mjs";

const dir = mkdtempSync(join(tmpdir(), "ggufembed-browser-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const { "gemma-embedding": model, "gemma-embedding2": model2 } = synthTinyModels(dir);
const notGguf = join(dir, "notes.gguf");
writeFileSync(notGguf, "These are notes, not a GGUF model.\n".repeat(20));

const PROMPTS = ["query", "document", "question-answering", "fact-checking", "classification",
                 "clustering", "sentence-similarity", "code-retrieval"];

const requests = new Map();  // path -> count
let server, browser, base;
before(async () => {
  ({ server, base } = await serve({
    extra: { "/model.gguf": model, "/model2.gguf": model2, "/notes.gguf": notGguf },
    onRequest: (path) => requests.set(path, (requests.get(path) ?? 0) + 1),
    lengths: true,
  }));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const DEMO = "/examples/browser/index.html";

/** A fresh browser context (its own Cache Storage and localStorage) and page; page errors fail. */
async function openDemo(query = "", viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}${DEMO}${query}`);
  return { context, page, errors };
}

/** Waits for the model to be ready; fails with the page's error if it shows one instead. */
async function ready(page) {
  // A load started from the page shows its box at once; the current model stays until it ends.
  await page.waitForSelector("#load-box", { state: "hidden", timeout: 60_000 });
  await page.waitForSelector("#model-info:not([hidden]), #model-error:not([hidden])", { timeout: 60_000 });
  if (await page.isVisible("#model-error")) {
    assert.fail(`the page shows an error instead: ${await page.textContent("#model-error")}`);
  }
}

/** Native vectors (and token counts) of `texts` with `prompt`, from the CLI's JSONL. */
function native(modelPath, prompt, texts) {
  const r = runCli(["embed", "-q", "-m", modelPath, "-p", prompt, "-f", "jsonl", ...texts]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").map((line) => {
    const { embedding, tokens } = JSON.parse(line);
    return { vector: embedding.map(Math.fround), tokens };
  });
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** Searches with the page's documents and query; returns what the page shows. */
async function searchOnPage(page, { keyboard = false } = {}) {
  const done = await page.evaluate(() => window.demo.searches);
  if (keyboard) {
    await page.focus("#query");
    await page.keyboard.press("Enter");
  } else {
    await page.click("#search");
  }
  await page.waitForFunction((done) => window.demo.searches > done, done, { timeout: 60_000 });
  return page.evaluate(() => ({
    docs: document.getElementById("docs").value.split("\n").map((t) => t.trim()).filter(Boolean),
    query: document.getElementById("query").value.trim(),
    results: [...document.querySelectorAll("#results li")].map((li) => ({
      index: Number(li.dataset.index), score: Number(li.dataset.score),
      shown: li.querySelector(".score").textContent, text: li.querySelector(".text").textContent,
    })),
    docVectors: window.demo.docs.items.map((d) => Array.from(d.vector)),
    queryVector: Array.from(window.demo.lastSearch.vector),
  }));
}

/** The accessible labels of a select and its options. */
function selectShape(page, id) {
  return page.evaluate((id) => {
    const select = document.getElementById(id);
    return {
      label: [...select.labels].map((l) => l.textContent.trim()),
      values: [...select.options].map((o) => o.value),
      texts: [...select.options].map((o) => o.textContent.trim()),
    };
  }, id);
}

test("load by URL with progress, search ranks like the native CLI's cosines, heatmap, timing", async () => {
  const { context, page, errors } = await openDemo();
  // Record the progress bar while the model loads.
  await page.evaluate(() => {
    window.progressSeen = [];
    new MutationObserver(() => {
      const box = document.getElementById("load-box");
      window.progressSeen.push({ visible: !box.hidden,
                                 numbers: document.getElementById("load-numbers").textContent });
    }).observe(document.getElementById("load-box"), { attributes: true, childList: true, subtree: true,
                                                       characterData: true });
  });
  const before = requests.get("/model.gguf") ?? 0;
  await page.fill("#model-url", `${base}/model.gguf`);
  assert.equal(await page.inputValue("#preset"), "custom");
  await page.click("#load-url");
  await ready(page);
  assert.equal(requests.get("/model.gguf"), before + 1);
  const seen = await page.evaluate(() => window.progressSeen);
  assert.ok(seen.some((s) => s.visible), "the progress box was shown");
  assert.ok(seen.some((s) => / of /.test(s.numbers)), `progress with a total: ${JSON.stringify(seen)}`);
  assert.equal(await page.isHidden("#load-box"), true);
  assert.equal(await page.textContent("#info-arch"), "gemma-embedding");
  assert.equal(await page.textContent("#info-dim"), "128");

  // All eight prompts, labelled, for documents and queries; the sizes up to the model's width.
  const docPrompt = await selectShape(page, "doc-prompt");
  assert.deepEqual(docPrompt.label, ["Document prompt"]);
  assert.deepEqual(docPrompt.values, ["", ...PROMPTS]);
  assert.equal(new Set(docPrompt.texts).size, 9, "every option has its own label");
  assert.ok(docPrompt.texts.every((t) => t.length > 0));
  const queryPrompt = await selectShape(page, "query-prompt");
  assert.deepEqual(queryPrompt.label, ["Query prompt"]);
  assert.deepEqual(queryPrompt.values, ["", ...PROMPTS]);
  assert.equal(await page.inputValue("#doc-prompt"), "document");
  assert.equal(await page.inputValue("#query-prompt"), "query");
  assert.deepEqual(await selectShape(page, "dim"),
                   { label: ["Matryoshka size"], values: [""], texts: ["Full (128)"] });
  assert.deepEqual((await selectShape(page, "preset")).label, ["Preset"]);

  // Search (from the keyboard): documents embedded with the document prompt, the query with
  // the query prompt, ranked by cosine; the same vectors, order and scores as native.
  const shown = await searchOnPage(page, { keyboard: true });
  const docs = native(model, "document", shown.docs);
  const [query] = native(model, "query", [shown.query]);
  assert.equal(shown.docs.length, 8);
  shown.docVectors.forEach((v, i) => assert.deepEqual(v, docs[i].vector, `document ${i} differs from native`));
  assert.deepEqual(shown.queryVector, query.vector);
  const expected = docs.map((d, index) => ({ index, score: cosine(query.vector, d.vector) }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  assert.deepEqual(shown.results.map((r) => r.index), expected.map((r) => r.index));
  shown.results.forEach((r, i) => {
    assert.ok(Math.abs(r.score - expected[i].score) < 1e-6, `score ${i}: ${r.score} vs ${expected[i].score}`);
    assert.equal(r.shown, expected[i].score.toFixed(4));
    assert.equal(r.text, shown.docs[r.index]);
  });
  assert.match(await page.textContent("#search-summary"), /8 documents ranked · query: \d+ tokens in .* tokens\/s/);

  // The heatmap: cosines of the native vectors, row and column headers.
  const heat = await page.evaluate(() => [...document.querySelectorAll("#heatmap tbody tr")].map((tr) =>
    [...tr.querySelectorAll("td")].map((td) => ({ value: Number(td.dataset.value), text: td.textContent }))));
  assert.equal(heat.length, 8);
  heat.forEach((row, i) => row.forEach((cell, j) => {
    const c = cosine(docs[i].vector, docs[j].vector);
    assert.ok(Math.abs(cell.value - c) < 1e-6, `heatmap ${i},${j}`);
    assert.equal(cell.text, c.toFixed(2));
  }));
  assert.equal(await page.locator("#heatmap thead th[scope=col]").count(), 8);
  assert.equal(await page.locator("#heatmap tbody th[scope=row]").count(), 8);

  // Per-text timing: native token counts, a time and tokens/s per text.
  const timing = await page.$$eval("#timing tbody tr", (trs) => trs.map((tr) =>
    [...tr.querySelectorAll("td")].map((td) => td.textContent)));
  assert.equal(timing.length, 8);
  timing.forEach((row, i) => {
    assert.equal(Number(row[2]), docs[i].tokens);
    assert.match(row[3], /^[\d.]+ (ms|s)$/);
    assert.match(row[4], /^[\d,]+$/);
  });
  assert.match(await page.textContent("#timing-summary"), /8 texts · \d+ tokens · .* tokens\/s · 128 dimensions/);

  // A changed query prompt: the query is embedded again with it.
  await page.selectOption("#query-prompt", "question-answering");
  const qa = await searchOnPage(page);
  assert.deepEqual(qa.queryVector, native(model, "question-answering", [qa.query])[0].vector);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a reload takes the model from the cache without downloading it; the kept list clears", async () => {
  const { context, page, errors } = await openDemo();
  const count = () => requests.get("/model.gguf") ?? 0;
  const first = count();
  await page.fill("#model-url", `${base}/model.gguf`);
  await page.press("#model-url", "Enter");
  await ready(page);
  assert.equal(count(), first + 1);
  await page.waitForSelector(`#kept-list li[data-url="${base}/model.gguf"]`);
  assert.match(await page.textContent("#kept-list"), /model\.gguf.*in use/s);

  // The reload loads the last model again, from the cache: no request for the file.
  await page.reload();
  await ready(page);
  assert.equal(count(), first + 1, "the reload downloaded the model again");
  assert.match(await page.textContent("#info-source"), /from this browser's cache/);
  assert.equal((await searchOnPage(page)).results.length, 8);

  // Clear all: nothing kept, the next visit does not load it, and loading downloads again.
  await page.click("#clear-cache");
  await page.waitForSelector("#kept-empty:not([hidden])");
  assert.equal(await page.locator("#kept-list li").count(), 0);
  assert.deepEqual(await page.evaluate(async () =>
    (await import("/js/dist/index.js")).listCachedModels()), []);
  await page.reload();
  await page.waitForFunction(() => document.getElementById("model-url").value.endsWith("/model.gguf"));
  await page.waitForTimeout(300);
  assert.equal(await page.isHidden("#model-info"), true, "a cleared model was loaded");
  await page.click("#load-url");
  await ready(page);
  assert.equal(count(), first + 2);

  // While a model downloads (held here) Clear all waits: the package keeps the model as it
  // streams in, so a clearing then was undone when the download ended.
  await page.waitForSelector("#clear-cache:enabled");
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route("**/model2.gguf", async (route) => { await held; await route.continue(); });
  await page.fill("#model-url", `${base}/model2.gguf`);
  await page.press("#model-url", "Enter");
  await page.waitForSelector("#clear-cache:disabled");
  release();
  await ready(page);
  await page.waitForSelector("#clear-cache:enabled");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a model the browser cannot keep loads, and the page says it was not kept", async () => {
  const { context, page, errors } = await openDemo();
  // A storage quota far below the model (as in a private window, whose storage is small).
  const cdp = await context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: base, quotaSize: 4096 });
  await page.fill("#model-url", `${base}/model.gguf`);
  await page.press("#model-url", "Enter");
  await ready(page);
  assert.match(await page.textContent("#info-warnings"),
               /This browser could not keep the model .*: the next visit downloads it again\./);
  assert.match(await page.textContent("#status"), /could not keep it/);
  assert.equal((await searchOnPage(page)).results.length, 8);
  assert.equal(await page.locator("#kept-list li").count(), 0);
  // A picked file asked to be kept: the same note, and the next visit does not try the copy.
  await page.check("#keep-file");
  await page.setInputFiles("#model-file", model);
  await ready(page);
  await page.waitForFunction(() => /pick the file again/.test(document.getElementById("info-warnings").textContent));
  assert.doesNotMatch(await page.textContent("#info-source"), /kept/);
  assert.equal(await page.evaluate(() => localStorage.getItem("ggufembed-demo:last-model")), `${base}/model.gguf`);
  // With room again, the same load keeps it and says nothing.
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: base });
  await page.click("#load-url");
  await ready(page);
  await page.waitForSelector(`#kept-list li[data-url="${base}/model.gguf"]`);
  assert.doesNotMatch(await page.textContent("#info-warnings"), /could not keep/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a picked file loads, is kept when asked, and loads from the kept list", async () => {
  const { context, page, errors } = await openDemo();
  await page.check("#keep-file");
  await page.setInputFiles("#model-file", model);
  await ready(page);
  assert.match(await page.textContent("#info-source"), new RegExp(`${basename(model)} · kept`));
  assert.equal((await searchOnPage(page)).results.length, 8);
  const kept = await page.$$eval("#kept-list li", (lis) => lis.map((li) => ({
    url: li.dataset.url, name: li.querySelector(".name").textContent })));
  assert.equal(kept.length, 1);
  assert.equal(kept[0].name, basename(model));

  // The next visit loads the kept file by itself; its Load button loads it too.
  await page.reload();
  await ready(page);
  assert.equal(await page.textContent("#info-arch"), "gemma-embedding");
  assert.match(await page.textContent("#info-source"), /from this browser's cache/);
  await page.click(`#kept-list li[data-url="${kept[0].url}"] button:has-text("Load")`);
  await ready(page);
  assert.equal((await searchOnPage(page)).results.length, 8);

  // Without "keep", a picked file is not added to the cache.
  await page.click(`#kept-list li[data-url="${kept[0].url}"] button:has-text("Delete")`);
  await page.waitForSelector("#kept-empty:not([hidden])");
  await page.uncheck("#keep-file");
  await page.setInputFiles("#model-file", model2);
  await ready(page);
  assert.equal(await page.textContent("#info-arch"), "gemma-embedding2");
  assert.equal(await page.locator("#kept-list li").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("errors are shown as errors: a 404, a file that is not GGUF, no query", async () => {
  const { context, page, errors } = await openDemo("?model=/nope.gguf");
  const alert = page.locator("#model-error");
  await alert.waitFor({ state: "visible" });
  assert.equal(await alert.getAttribute("role"), "alert");
  assert.match(await alert.textContent(), /^Could not load nope\.gguf.*io_error: cannot fetch .*nope\.gguf: HTTP 404$/);
  const style = await alert.evaluate((e) => {
    const s = getComputedStyle(e);
    return { color: s.color, border: s.borderTopStyle };
  });
  assert.notEqual(style.border, "none");
  const [r, g, b] = style.color.match(/\d+/g).map(Number);
  assert.ok(r > 2 * g && r > 2 * b, `the error is red: ${style.color}`);
  // Without a model, Search (and Enter in the query, which the disabled button used to swallow
  // silently) and Embed documents say to load one first.
  await page.fill("#query", "red planet");
  await page.focus("#query");
  await page.keyboard.press("Enter");
  await page.locator("#search-error").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#search-error"), "No model Load a model first (step 1).");
  await page.click("#embed-docs");
  await page.locator("#docs-error").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#docs-error"), "No model Load a model first (step 1).");

  // A file that is not a GGUF, by URL and picked.
  await page.fill("#model-url", `${base}/notes.gguf`);
  await page.click("#load-url");
  await page.waitForFunction(() => /invalid_file/.test(document.getElementById("model-error").textContent));
  assert.match(await alert.textContent(), /Could not load notes\.gguf.*invalid_file: /);
  await page.setInputFiles("#model-file", notGguf);
  await page.waitForFunction(() => /invalid_file/.test(document.getElementById("model-error").textContent) &&
                                   !document.getElementById("model-error").hidden);
  assert.equal(await page.isHidden("#model-info"), true);

  // A good model clears the error, and the "No model" ones; an empty query or no documents are
  // errors too.
  await page.fill("#model-url", `${base}/model.gguf`);
  await page.click("#load-url");
  await ready(page);
  assert.equal(await alert.isHidden(), true);
  assert.equal(await page.isHidden("#search-error"), true);
  assert.equal(await page.isHidden("#docs-error"), true);
  await page.fill("#query", "");
  await page.click("#search");
  await page.locator("#search-error").waitFor({ state: "visible" });
  assert.equal(await page.getAttribute("#search-error", "role"), "alert");
  assert.match(await page.textContent("#search-error"), /No query/);
  await page.fill("#query", "red planet");
  await page.click("#docs-clear");
  await page.click("#search");
  await page.locator("#docs-error").waitFor({ state: "visible" });
  assert.match(await page.textContent("#docs-error"), /No documents/);

  // A document that fails is named by its line, blank lines counted; a title that cannot be used
  // is the title's error, not the first document's.
  await page.evaluate(() => {  // the lone surrogate stays an escape in the function's source
    document.getElementById("docs").value = "\n\nfirst\n\n\nsecond \ud800 broken\nthird";
    document.getElementById("docs").dispatchEvent(new Event("input"));
  });
  await page.click("#embed-docs");
  await page.waitForFunction(() => /document 2/.test(document.getElementById("docs-error").textContent));
  assert.match(await page.textContent("#docs-error"), /^Could not embed document 2 \(line 6 of the documents\) invalid_argument: /);
  await page.fill("#docs", "first\nsecond");
  await page.selectOption("#doc-prompt", "document");
  await page.evaluate(() => {
    document.getElementById("doc-title").value = "a\u0000title";
    document.getElementById("doc-title").dispatchEvent(new Event("input"));
  });
  await page.click("#embed-docs");
  await page.waitForFunction(() => /title for documents/.test(document.getElementById("docs-error").textContent));
  assert.match(await page.textContent("#docs-error"), /^Could not use the title for documents invalid_argument: embed: title /);
  assert.equal(await page.evaluate(() => document.activeElement.id), "doc-title");
  assert.deepEqual(errors, []);
  await context.close();
});

test("EmbeddingGemma 2: the model's prompts, 96-d vectors like the native CLI's", async () => {
  const { context, page, errors } = await openDemo("?model=/model2.gguf");
  await ready(page);
  assert.equal(await page.textContent("#info-arch"), "gemma-embedding2");
  assert.deepEqual((await selectShape(page, "query-prompt")).values, ["", ...PROMPTS]);
  assert.deepEqual((await selectShape(page, "dim")).texts, ["Full (96)"]);
  const shown = await searchOnPage(page);
  const docs = native(model2, "document", shown.docs);
  const [query] = native(model2, "query", [shown.query]);
  assert.equal(shown.queryVector.length, 96);  // the tiny preset's n_embd_out
  assert.deepEqual(shown.queryVector, query.vector);
  shown.docVectors.forEach((v, i) => assert.deepEqual(v, docs[i].vector, `document ${i}`));
  const expected = docs.map((d, index) => ({ index, score: cosine(query.vector, d.vector) }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  assert.deepEqual(shown.results.map((r) => r.index), expected.map((r) => r.index));
  assert.deepEqual(errors, []);
  await context.close();
});

test("a phone-sized screen has no horizontal overflow", async () => {
  const { context, page, errors } = await openDemo("?model=/model.gguf", { width: 390, height: 844 });
  const overflow = () => page.evaluate(() => document.scrollingElement.scrollWidth - innerWidth);
  assert.ok(await overflow() <= 0, "before loading");
  await ready(page);
  await searchOnPage(page);
  await page.waitForSelector("#heatmap-card:not([hidden])");
  assert.ok(await overflow() <= 0, `after a search: ${await overflow()} px too wide`);
  // Long unbroken text and a long URL do not widen the page either.
  await page.fill("#docs", `${"x".repeat(300)}\nshort`);
  await page.fill("#model-url", `${base}/${"very-long-name-".repeat(20)}.gguf`);
  assert.equal((await searchOnPage(page)).results.length, 2);
  assert.ok(await overflow() <= 0, `with long text: ${await overflow()} px too wide`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a failed load keeps the current model; a bad ?model=, another load or a new size mid-run are no false errors", async () => {
  // A ?model= that is no URL: the field's error, and the rest of the page starts (it threw).
  const bad = await openDemo(`?model=${encodeURIComponent("https://[oops")}`);
  await bad.page.locator("#model-error").waitFor({ state: "visible" });
  assert.match(await bad.page.textContent("#model-error"), /^Invalid URL 'https:\/\/\[oops' is not a URL\.$/);
  await bad.page.waitForFunction(() => document.getElementById("kept-empty").hidden === false);
  assert.deepEqual(bad.errors, []);
  await bad.context.close();

  const { context, page, errors } = await openDemo("?model=/model.gguf");
  await ready(page);
  await searchOnPage(page);
  const results = await page.locator("#results li").count();
  // A load that fails (a typo) leaves the working model, its results and search as they were.
  await page.fill("#model-url", `${base}/typo.gguf`);
  await page.click("#load-url");
  await page.locator("#model-error").waitFor({ state: "visible" });
  assert.equal(await page.isVisible("#model-info"), true);
  assert.equal(await page.isDisabled("#search"), false);
  assert.equal(await page.locator("#results li").count(), results);
  assert.equal((await searchOnPage(page)).results.length, results);

  // Many documents, so that embedding them takes a while; a size other than the model's own (the
  // tiny model's menu has only its full width) chosen once the embedding is under way: the query
  // takes the documents' size (it took the menu's, and the search failed on mismatched lengths).
  const many = Array.from({ length: 300 }, (_, i) => `document ${i} about ${["mars", "tea", "rust"][i % 3]}`);
  await page.fill("#docs", many.join("\n"));
  await page.evaluate(() => document.getElementById("dim").append(new Option("64", "64")));
  const done = await page.evaluate(() => window.demo.searches);
  await page.click("#search");
  await page.waitForFunction(() => /^[1-9]\d* of 300$/.test(document.getElementById("embed-numbers").textContent));
  await page.selectOption("#dim", "64");
  await page.waitForFunction((n) => window.demo.searches > n, done, { timeout: 60_000 });
  assert.equal(await page.isHidden("#search-error"), true, await page.textContent("#search-error"));
  assert.equal(await page.evaluate(() => window.demo.lastSearch.vector.length), 128);
  assert.match(await page.textContent("#results-more"), /^The best 200 of 300 documents\.$/);
  assert.equal(await page.locator("#results li").count(), 200);

  // Another model loaded while documents are being embedded: the embedding stops quietly (it
  // ended in "invalid_argument: this model was disposed").
  await page.click("#embed-docs");
  await page.waitForFunction(() => /^[1-9]\d* of 300$/.test(document.getElementById("embed-numbers").textContent));
  await page.fill("#model-url", `${base}/model2.gguf`);
  await page.click("#load-url");
  await page.waitForFunction(() => document.getElementById("info-arch").textContent === "gemma-embedding2");
  await page.waitForFunction(() => document.getElementById("embed-box").hidden);
  assert.equal(await page.isHidden("#docs-error"), true, await page.textContent("#docs-error"));

  // A document that cannot be embedded is named, and the results of other documents go.
  await page.evaluate(() => {  // the lone surrogate stays an escape in the function's source
    document.getElementById("docs").value = "fine\nalso fine\npasted \ud83d text\nlast";
    document.getElementById("docs").dispatchEvent(new Event("input"));
  });
  await page.click("#search");
  await page.locator("#docs-error").waitFor({ state: "visible" });
  assert.match(await page.textContent("#docs-error"), /^Could not embed document 3 \(line 3 of the documents\) invalid_argument: /);
  assert.equal(await page.locator("#results li").count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
