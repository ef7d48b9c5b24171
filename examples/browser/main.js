// The semantic-search demo: load an EmbeddingGemma GGUF (a preset, any URL or a file on this
// device), embed documents, rank them for a query and show their similarities. Plain ES modules
// and the npm package's dist/ — no build step.
import {
  cacheKey, cosineSimilarity, deleteCachedModel, listCachedModels, loadEmbedder,
} from "../../js/dist/index.js";

/** Official EmbeddingGemma GGUFs on Hugging Face (see the README for why these). */
const PRESETS = [
  { group: "EmbeddingGemma-300M", label: "Q8_0 · 334 MB · ggml-org",
    url: "https://huggingface.co/ggml-org/embeddinggemma-300M-GGUF/resolve/main/embeddinggemma-300M-Q8_0.gguf" },
  { group: "EmbeddingGemma-300M", label: "QAT Q4_0 · 278 MB · ggml-org",
    url: "https://huggingface.co/ggml-org/embeddinggemma-300M-qat-q4_0-GGUF/resolve/main/embeddinggemma-300M-qat-Q4_0.gguf" },
  { group: "EmbeddingGemma-300M", label: "BF16 · 617 MB · unsloth",
    url: "https://huggingface.co/unsloth/embeddinggemma-300m-GGUF/resolve/main/embeddinggemma-300M-BF16.gguf" },
  { group: "EmbeddingGemma 2", label: "Q8_0 · 310 MB · ggml-org",
    url: "https://huggingface.co/ggml-org/embeddinggemma-2-GGUF/resolve/main/embeddinggemma-2-Q8_0.gguf" },
];

/** Readable names and prefixes of EmbeddingGemma's task prompts (the model lists which it has). */
const PROMPTS = {
  "query": ["Search query", "task: search result | query: "],
  "document": ["Document", "title: {title} | text: "],
  "question-answering": ["Question answering", "task: question answering | query: "],
  "fact-checking": ["Fact checking", "task: fact checking | query: "],
  "classification": ["Classification", "task: classification | query: "],
  "clustering": ["Clustering", "task: clustering | query: "],
  "sentence-similarity": ["Sentence similarity", "task: sentence similarity | query: "],
  "code-retrieval": ["Code retrieval", "task: code retrieval | query: "],
};
const MATRYOSHKA = [768, 512, 256, 128];
const HEATMAP_MAX = 8;
// Rows rendered at most in the timing table and the results: thousands of rows took the page's
// thread seconds to lay out (and into the query's timing).
const ROWS_MAX = 200;
const LAST_MODEL = "ggufembed-demo:last-model";

const DEFAULT_DOCS = `Mars is often called the Red Planet because of the iron oxide on its surface.
Venus is the hottest planet in the solar system, hotter even than Mercury.
Jupiter is a gas giant with a storm larger than the Earth.
The cat sleeps on the sofa all afternoon.
A kitten naps on the couch next to the window.
Stock markets fell sharply after the central bank raised interest rates.
Whisk the eggs with sugar before folding in the flour.
Fresh basil, pine nuts and parmesan make a classic pesto.`;
const DEFAULT_QUERY = "Which planet looks red?";

const $ = (id) => document.getElementById(id);

/** Everything the page knows; also `window.demo`, for the console and the browser test. */
const state = {
  loading: null,  // the model being loaded, while the current one (`model`) stays in use
  embedder: null,
  model: null,        // {label, url?, file?, cached}
  loadAbort: null,
  embedAbort: null,
  docs: null,         // {key, items: [{text, vector, tokens, truncated, ms}], ms, dim}
  lastSearch: null,   // {query, vector, tokens, ms, ranking: [{index, text, score}]}
  searches: 0,        // searches done
};
window.demo = state;

// ---------------------------------------------------------------------------------------------
// Formatting and small helpers

function formatBytes(n) {
  if (n == null || !Number.isFinite(n)) return "?";
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}
const formatMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const perSecond = (tokens, ms) => Math.round(tokens / Math.max(ms, 1e-3) * 1000).toLocaleString("en-US");
const plural = (n, one, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "scope" || key === "title") {
      node.setAttribute(key, value);
    } else node[key] = value;
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

function announce(text) {
  $("status").textContent = text;
}

function showError(id, error, context) {
  const box = $(id);
  const message = typeof error === "string" ? error
    : `${error?.code ?? error?.name ?? "error"}: ${error?.message ?? String(error)}`;
  box.replaceChildren(el("strong", { text: context }), " ", el("span", { text: message }));
  box.hidden = false;
}
const hideError = (id) => { $(id).hidden = true; };

function isAbort(error, signal) {
  return signal?.aborted || error?.code === "aborted" || error?.name === "AbortError";
}

/** A kept file's key (the package names them under the reserved .invalid domain), not a URL to fetch. */
function isKeptFileKey(url) {
  try {
    return new URL(url).hostname.endsWith(".invalid");
  } catch {
    return false;
  }
}

function fileNameOf(url) {
  try {
    const path = new URL(url, location.href).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)) || url;
  } catch {
    return url;
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Loading a model

function fillPresets() {
  const select = $("preset");
  const groups = new Map();
  for (const preset of PRESETS) {
    if (!groups.has(preset.group)) groups.set(preset.group, el("optgroup", { label: preset.group }));
    groups.get(preset.group).append(new Option(`${preset.group} ${preset.label}`, preset.url));
  }
  select.replaceChildren(...groups.values(), new Option("Another URL…", "custom"));
}

function syncPresetToUrl() {
  const url = $("model-url").value.trim();
  const preset = PRESETS.find((p) => p.url === url);
  $("preset").value = preset ? preset.url : "custom";
  $("preset-hint").textContent = preset
    ? "Downloaded once from Hugging Face, then kept in this browser."
    : "Any EmbeddingGemma GGUF (gemma-embedding or gemma-embedding2) served with CORS.";
}

// What belonged to the model being replaced: its info, the documents' vectors, the results.
function forgetModel() {
  $("model-info").hidden = true;
  state.docs = null;
  clearResults();
}

function loadProgress({ loaded, total, cached }) {
  const bar = $("load-bar");
  const source = state.loading;
  if (total) {
    bar.max = total;
    bar.value = loaded;
  } else {
    bar.removeAttribute("value");  // indeterminate
  }
  const done = total != null && loaded >= total;
  $("load-label").textContent = done ? "Preparing the model…"
    : cached ? "Reading the copy kept in this browser…"
    : source?.file ? "Reading the file…" : "Downloading…";
  $("load-numbers").textContent = total ? `${formatBytes(loaded)} of ${formatBytes(total)}`
                                        : formatBytes(loaded);
  if (cached) source.cached = true;
}

/** Loads `source` (an absolute URL string or a File); `label` names it on the page. */
/** The current model stays in use (and its results on the page) until the new one is ready, so a
 * failed or cancelled load costs nothing; documents being embedded with it stop quietly. */
async function load(source, label) {
  state.loadAbort?.abort();
  state.embedAbort?.abort();
  const abort = new AbortController();
  state.loadAbort = abort;
  hideError("model-error");
  const isFile = typeof source !== "string";
  // keep: the copy this load asks the browser to keep (a URL's always, a file's when ticked).
  const model = { label, url: isFile ? null : source, file: isFile ? source : null, cached: false,
                  keep: !isFile || $("keep-file").checked };
  state.loading = model;
  refreshKept();  // Clear all waits for the load

  const bar = $("load-bar");
  bar.removeAttribute("value");
  $("load-label").textContent = "Starting…";
  $("load-numbers").textContent = "";
  $("load-box").hidden = false;
  announce(`Loading ${label}`);
  const started = performance.now();
  const options = { onProgress: loadProgress, signal: abort.signal, quiet: true, name: label };
  if (isFile) options.cache = model.keep;
  try {
    const embedder = await loadEmbedder(source, options);
    if (abort.signal.aborted) {
      embedder.dispose();
      return;
    }
    const previous = state.embedder;
    forgetModel();
    state.embedder = embedder;
    state.model = model;
    previous?.dispose();
    // The next visit loads it again from the cache (a picked file only if it was kept).
    if (!isFile) localStorage.setItem(LAST_MODEL, source);
    else if (embedder.kept) localStorage.setItem(LAST_MODEL, cacheKey(source));
    showModel(embedder, performance.now() - started);
    for (const id of ["docs-error", "search-error"]) {  // "No model" was said before there was one
      if (/^No model/.test($(id).textContent)) hideError(id);
    }
    announce(`${label} is ready${model.keep && !embedder.kept ? "; this browser could not keep it" : ""}`);
    if (embedder.kept) watchKept(isFile ? cacheKey(source) : source);
  } catch (error) {
    if (isAbort(error, abort.signal)) {
      if (state.loadAbort === abort) {
        announce(state.embedder ? "Loading cancelled; the current model stays" : "Loading cancelled");
        $(state.embedder ? "query" : "model-url").focus();  // the Cancel button goes away
      }
    } else {
      showError("model-error", error, `Could not load ${label}`);
      announce(`Could not load ${label}`);
    }
  } finally {
    if (state.loadAbort === abort) {
      state.loadAbort = null;
      state.loading = null;
      $("load-box").hidden = true;
    }
    refreshKept();
  }
}

function showModel(embedder, ms) {
  const { info } = embedder;
  const model = state.model;
  $("info-name").textContent = info.name || fileNameOf(model.label);
  $("info-source").textContent = model.file
    ? `· ${model.file.name}${embedder.kept ? " · kept" : ""}`
    : `· ${fileNameOf(model.url)}${model.cached ? " · from this browser's cache" : ""}`;
  $("info-arch").textContent = info.architecture;
  $("info-dim").textContent = String(info.dim);
  $("info-context").textContent = `${info.contextLength.toLocaleString("en-US")} tokens`;
  $("info-pooling").textContent = `${info.pooling}${info.hasDense ? " + dense" : ""}`;
  const where = embedder.runsIn === "worker" ? "worker" : "main thread";
  const threads = embedder.threads > 1 ? ` · ${embedder.threads} threads` : "";
  $("info-engine").textContent = `${embedder.build ?? "wasm"} · ${where}${threads}`;
  $("info-time").textContent = formatMs(ms);
  // The package gives up keeping a copy without failing the load (a private window's storage, a
  // full quota): say so, or the next visit's download would come as a surprise.
  const notKept = model.keep && !embedder.kept
    ? `This browser could not keep the model (a private window, or its storage is full): ${
      model.file ? "pick the file again next time" : "the next visit downloads it again"}.`
    : null;
  $("info-warnings").replaceChildren(...[notKept, ...info.warnings].filter((w) => w)
    .map((w) => el("li", { text: w })));
  $("model-info").hidden = false;
  fillModelSettings(info);
}

/** The prompt and Matryoshka menus from the model: its own prompts, sizes up to its width. */
function fillModelSettings(info) {
  for (const [id, preferred] of [["doc-prompt", "document"], ["query-prompt", "query"]]) {
    const select = $(id);
    const previous = select.value;
    select.replaceChildren(new Option("None (raw text)", ""),
      ...info.prompts.map((p) => new Option(PROMPTS[p]?.[0] ?? p, p)));
    const keep = [previous, preferred].find((v) => v && info.prompts.includes(v));
    select.value = keep ?? "";
  }
  const dim = $("dim");
  const previous = dim.value;
  dim.replaceChildren(new Option(`Full (${info.dim})`, ""),
    ...MATRYOSHKA.filter((d) => d < info.dim).map((d) => new Option(String(d), String(d))));
  if ([...dim.options].some((o) => o.value === previous)) dim.value = previous;
  updatePromptPreview();
}

function updatePromptPreview() {
  const prefix = (name, title) => {
    if (!name) return "(no prefix)";
    const text = PROMPTS[name]?.[1];
    return text ? text.replace("{title}", title || "none") : `${name} prompt`;
  };
  const s = settings();
  $("doc-title").disabled = s.docPrompt !== "document";
  const preview = $("prompt-preview");
  preview.replaceChildren("Documents: ", el("code", { text: prefix(s.docPrompt, s.title) + "…" }),
    " · Queries: ", el("code", { text: prefix(s.queryPrompt) + "…" }));
  updateDocsState();
}

// ---------------------------------------------------------------------------------------------
// Kept models (the package's Cache API store)

async function refreshKept() {
  const list = $("kept-list");
  let entries = [];
  try {
    entries = await listCachedModels();
  } catch (error) {
    showError("model-error", error, "Could not read the kept models");
  }
  list.replaceChildren(...entries.map((entry) => {
    const inUse = state.embedder && state.model &&
      (state.model.url === entry.url ||
       (state.model.file && cacheKey(state.model.file) === entry.url));
    const when = new Date(entry.cachedAt);
    const meta = `${formatBytes(entry.size)} · kept ${Number.isNaN(+when) ? "" : when.toLocaleDateString()}` +
                 (inUse ? " · in use" : "");
    const loadButton = el("button", { type: "button", class: "small", text: "Load",
                                      "aria-label": `Load ${entry.name}` });
    loadButton.addEventListener("click", () => {
      if (!isKeptFileKey(entry.url)) {
        $("model-url").value = entry.url;
        syncPresetToUrl();
      }
      load(entry.url, entry.name);
    });
    const deleteButton = el("button", { type: "button", class: "small danger", text: "Delete",
                                        "aria-label": `Delete ${entry.name}` });
    deleteButton.addEventListener("click", async () => {
      await deleteCachedModel(entry.url);
      announce(`${entry.name} removed from this browser`);
      await refreshKept();
      $("kept-h").focus();  // the button went with its row
    });
    return el("li", { "data-url": entry.url },
      el("span", { class: "what" }, el("span", { class: "name", text: entry.name, title: entry.url }),
        el("span", { class: "meta", text: meta })),
      loadButton, deleteButton);
  }));
  $("kept-empty").hidden = entries.length > 0;
  // While a model loads, the package keeps it as it downloads: a clearing then would not clear
  // it (it was listed again once the download ended).
  $("clear-cache").disabled = entries.length === 0 || state.loading !== null;
  $("clear-cache").title = state.loading !== null ? "Available once the model being loaded is ready" : "";
  const usage = $("kept-usage");
  usage.textContent = "";
  if (entries.length && navigator.storage?.estimate) {
    const { usage: used, quota } = await navigator.storage.estimate();
    if (quota) usage.textContent = `This site uses ${formatBytes(used)} of ${formatBytes(quota)} available.`;
  }
}

/** The package finishes writing a kept copy after the load; the list shows it once it is there. */
async function watchKept(key) {
  if (!key) return;
  const model = state.model;
  for (let i = 0; i < 120 && state.model === model; i++) {
    if ((await listCachedModels()).some((e) => e.url === key)) return refreshKept();
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function clearKept() {
  const entries = await listCachedModels();
  for (const entry of entries) await deleteCachedModel(entry.url);
  announce(`${plural(entries.length, "kept model")} removed`);
  await refreshKept();
}

// ---------------------------------------------------------------------------------------------
// 2. Documents

/** The documents, one per non-blank line: [{text, line}] (line: 1-based, blank lines counted). */
function docLines() {
  return $("docs").value.split("\n").map((t, i) => ({ text: t.trim(), line: i + 1 }))
    .filter((d) => d.text !== "");
}

function parseDocs() {
  return docLines().map((d) => d.text);
}

function settings() {
  return {
    docPrompt: $("doc-prompt").value,
    title: $("doc-title").value.trim(),
    queryPrompt: $("query-prompt").value,
    dim: Number($("dim").value) || 0,
  };
}

/** embed() options for a prompt; documents are cut at the context rather than refused. */
function embedOptions(prompt, title, dim, signal) {
  const options = { truncate: true };
  if (prompt) options.prompt = prompt;
  if (prompt === "document" && title) options.title = title;
  if (dim) options.dim = dim;
  if (signal) options.signal = signal;
  return options;
}

function docsKey() {
  const s = settings();
  return JSON.stringify([parseDocs(), s.docPrompt, s.docPrompt === "document" ? s.title : "", s.dim]);
}

function updateDocsState() {
  const n = parseDocs().length;
  $("docs-count").textContent = plural(n, "document");
  const stateText = !state.embedder ? ""
    : state.docs?.key === docsKey() ? `${plural(state.docs.items.length, "document")} embedded`
    : state.docs ? "Changed since embedding — search embeds again" : "Search embeds them first";
  $("docs-state").textContent = stateText;
}

async function addDocFiles(files) {
  const lines = [];
  for (const file of files) {
    const text = await file.text();
    for (const line of text.split(/\r?\n/)) {
      if (!line.trim()) continue;
      if (/\.jsonl$/i.test(file.name)) {
        try {
          const record = JSON.parse(line);
          if (typeof record?.text === "string") lines.push(record.text.replace(/\s*\n\s*/g, " "));
        } catch {
          // not a JSON record: skip the line
        }
      } else {
        lines.push(line.trim());
      }
    }
  }
  const current = $("docs").value.replace(/\s+$/, "");
  $("docs").value = (current ? `${current}\n` : "") + lines.join("\n");
  announce(`${plural(lines.length, "document")} added`);
  updateDocsState();
}

// Without a model the buttons stay enabled, so that pressing them (or Enter in the query)
// says to load one first.
function setBusy(busy) {
  $("embed-docs").disabled = busy;
  $("search").disabled = busy;
}

// What Search and Embed documents say before a model is ready.
const noModelYet = () => state.loadAbort ? "The model is still loading (step 1)." : "Load a model first (step 1).";

// The document settings an engine error may name ("embed: title holds a NUL character…").
const SETTINGS = {
  title: { name: "title for documents", control: "doc-title" },
  prompt: { name: "document prompt", control: "doc-prompt" },
  dim: { name: "size", control: "dim" },
};

/** Embeds the documents one at a time (for per-text timing); true when done. */
async function embedDocuments() {
  hideError("docs-error");
  if (!state.embedder) {
    showError("docs-error", noModelYet(), "No model");
    return false;
  }
  const docs = docLines();
  const texts = docs.map((d) => d.text);
  if (texts.length === 0) {
    showError("docs-error", "Paste or add at least one document, one per line.", "No documents");
    return false;
  }
  const embedder = state.embedder;
  const key = docsKey();
  const s = settings();
  const abort = new AbortController();
  state.embedAbort = abort;
  setBusy(true);
  const bar = $("embed-bar");
  bar.max = texts.length;
  bar.value = 0;
  $("embed-label").textContent = "Embedding documents…";
  $("embed-numbers").textContent = `0 of ${texts.length}`;
  $("embed-box").hidden = false;
  const items = [];
  const started = performance.now();
  try {
    for (const { text } of docs) {
      if (abort.signal.aborted) throw Object.assign(new Error("cancelled"), { code: "aborted" });
      const t = performance.now();
      const r = await embedder.embed(text, embedOptions(s.docPrompt, s.title, s.dim, abort.signal));
      items.push({ text, vector: r.vector, dim: r.dim, tokens: r.tokens, truncated: r.truncated,
                   ms: performance.now() - t });
      bar.value = items.length;
      $("embed-numbers").textContent = `${items.length} of ${texts.length}`;
    }
    // The settings go with the vectors: a query must use the same size, whatever the menus say
    // by the time it is embedded.
    state.docs = { key, items, ms: performance.now() - started, dim: items[0].dim, settings: s };
    renderTiming();
    renderHeatmap();
    announce(`${plural(items.length, "document")} embedded`);
    return true;
  } catch (error) {
    if (isAbort(error, abort.signal) || embedder !== state.embedder) {
      announce("Embedding cancelled");
      if (embedder === state.embedder) $("embed-docs").focus();  // the Cancel button goes away
    } else {
      clearResults();  // they were of other documents
      // An option's error is the setting's (the engine names it: "embed: title holds …"), not
      // the document's it happened at.
      const setting = SETTINGS[/^embed: (title|prompt|dim)\b/.exec(error?.message ?? "")?.[1]];
      const doc = docs[items.length];  // none when all were embedded and showing them failed
      showError("docs-error", error, setting !== undefined ? `Could not use the ${setting.name}`
        : doc ? `Could not embed document ${items.length + 1} (line ${doc.line} of the documents)`
        : "Could not show the documents");
      $(setting?.control ?? "docs").focus();
    }
    return false;
  } finally {
    state.embedAbort = null;
    $("embed-box").hidden = true;
    setBusy(false);
    updateDocsState();
  }
}

function renderTiming() {
  const { items, ms, dim } = state.docs;
  const tokens = items.reduce((sum, d) => sum + d.tokens, 0);
  $("timing-summary").textContent = `${plural(items.length, "text")} · ${plural(tokens, "token")} · ` +
    `${formatMs(ms)} · ${perSecond(tokens, ms)} tokens/s · ${dim} dimensions`;
  $("timing-more").textContent = items.length > ROWS_MAX
    ? `The first ${ROWS_MAX} of ${items.length.toLocaleString("en-US")} documents.` : "";
  $("timing").tBodies[0].replaceChildren(...items.slice(0, ROWS_MAX).map((d, i) => el("tr", {},
    el("td", { class: "num", text: String(i + 1) }),
    el("td", { class: "text", title: d.text }, d.text, d.truncated ? el("span", { class: "badge", text: "cut" }) : null),
    el("td", { class: "num", text: String(d.tokens) }),
    el("td", { class: "num", text: formatMs(d.ms) }),
    el("td", { class: "num", text: perSecond(d.tokens, d.ms) }))));
  $("timing-card").hidden = false;
}

function renderHeatmap() {
  const items = state.docs.items.slice(0, HEATMAP_MAX);
  const total = state.docs.items.length;
  $("heatmap-note").textContent = `Cosine similarity between ${total > HEATMAP_MAX ? `the first ${HEATMAP_MAX} of ${total}` : "the"} documents` +
    " (1 = same direction).";
  const head = el("tr", {}, el("td", {}),
    ...items.map((d, j) => el("th", { scope: "col", title: d.text, text: String(j + 1) })));
  const rows = items.map((a, i) => el("tr", {},
    el("th", { scope: "row", title: a.text }, el("span", { class: "n", text: String(i + 1) }),
       el("span", { class: "t", text: a.text })),
    ...items.map((b, j) => {
      const value = cosineSimilarity(a.vector, b.vector);
      const strength = Math.round(Math.max(0, Math.min(1, value)) * 100);
      const cell = el("td", { "data-value": String(value), text: value.toFixed(2),
                              title: `${i + 1} · ${j + 1}: ${value.toFixed(4)}` });
      cell.style.background = `color-mix(in srgb, var(--bar) ${strength}%, var(--card))`;
      cell.style.color = strength > 55 ? "var(--accent-text)" : "var(--text)";
      return cell;
    })));
  $("heatmap").replaceChildren(
    el("caption", { class: "visually-hidden", text: "Cosine similarity of each pair of documents" }),
    el("thead", {}, head), el("tbody", {}, ...rows));
  $("heatmap-legend").replaceChildren(...items.map((d) => el("li", { text: d.text })));
  $("heatmap-card").hidden = items.length < 2;
}

// ---------------------------------------------------------------------------------------------
// 3. Search

function clearResults() {
  $("results").replaceChildren();
  $("results-more").textContent = "";
  $("search-summary").hidden = true;
  $("results-empty").hidden = false;
  $("heatmap-card").hidden = true;
  $("timing-card").hidden = true;
  state.lastSearch = null;
}

async function search(event) {
  event?.preventDefault();
  hideError("search-error");
  const query = $("query").value.trim();
  if (!state.embedder) {
    showError("search-error", noModelYet(), "No model");
    return;
  }
  if (!query) {
    showError("search-error", "Type what you are looking for.", "No query");
    $("query").focus();
    return;
  }
  if (state.docs?.key !== docsKey() && !(await embedDocuments())) return;
  const s = settings();
  const embedder = state.embedder;
  setBusy(true);
  try {
    // Let the page lay out what it just rendered first: that time is not the query's.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
    const started = performance.now();
    const q = await embedder.embed(query, embedOptions(s.queryPrompt, "", state.docs.settings.dim));
    const ms = performance.now() - started;
    const ranking = state.docs.items
      .map((d, index) => ({ index, text: d.text, score: cosineSimilarity(q.vector, d.vector) }))
      .sort((a, b) => b.score - a.score || a.index - b.index);
    state.lastSearch = { query, vector: q.vector, tokens: q.tokens, ms, ranking };
    renderResults(ranking);
    state.searches++;
    $("search-summary").textContent = `${plural(ranking.length, "document")} ranked · query: ` +
      `${plural(q.tokens, "token")} in ${formatMs(ms)} (${perSecond(q.tokens, ms)} tokens/s)`;
    $("search-summary").hidden = false;
    announce(`Best match: ${ranking[0].text}, score ${ranking[0].score.toFixed(3)}`);
  } catch (error) {
    if (embedder === state.embedder) showError("search-error", error, "Could not embed the query");
  } finally {
    setBusy(false);
  }
}

function renderResults(ranking) {
  $("results-empty").hidden = true;
  $("results-more").textContent = ranking.length > ROWS_MAX
    ? `The best ${ROWS_MAX} of ${ranking.length.toLocaleString("en-US")} documents.` : "";
  $("results").replaceChildren(...ranking.slice(0, ROWS_MAX).map((r, rank) => {
    const width = Math.round(Math.max(0, Math.min(1, r.score)) * 100);
    const meter = el("span", { class: "meter", "aria-hidden": "true" }, el("span"));
    meter.firstChild.style.width = `${width}%`;
    return el("li", { class: "result", "data-index": String(r.index), "data-score": String(r.score) },
      el("span", { class: "rank", text: `${rank + 1}` }),
      el("span", { class: "text", text: r.text }),
      el("span", { class: "score", text: r.score.toFixed(4), title: "cosine similarity" }),
      meter);
  }));
}

// ---------------------------------------------------------------------------------------------
// Wiring

function loadUrlField(event) {
  event?.preventDefault();
  const raw = $("model-url").value.trim();
  if (!raw) {
    showError("model-error", "Enter the URL of a GGUF file, or pick a preset.", "No URL");
    $("model-url").focus();
    return;
  }
  let url;
  try {
    url = new URL(raw, location.href).href;
  } catch {
    showError("model-error", `'${raw}' is not a URL.`, "Invalid URL");
    return;
  }
  load(url, fileNameOf(url));
}

function start() {
  fillPresets();
  $("docs").value = DEFAULT_DOCS;
  $("query").value = DEFAULT_QUERY;
  $("doc-prompt").replaceChildren(new Option("Document", "document"));
  $("query-prompt").replaceChildren(new Option("Search query", "query"));
  $("dim").replaceChildren(new Option("Full", ""));
  updatePromptPreview();

  $("url-form").addEventListener("submit", loadUrlField);
  $("preset").addEventListener("change", () => {
    const value = $("preset").value;
    if (value === "custom") {
      $("model-url").value = "";
      $("model-url").focus();
    } else {
      $("model-url").value = value;
    }
    syncPresetToUrl();
  });
  $("model-url").addEventListener("input", syncPresetToUrl);
  $("model-file").addEventListener("change", () => {
    const file = $("model-file").files[0];
    if (file) load(file, file.name);
    $("model-file").value = "";
  });
  $("cancel-load").addEventListener("click", () => state.loadAbort?.abort());
  $("cancel-embed").addEventListener("click", () => state.embedAbort?.abort());
  $("clear-cache").addEventListener("click", clearKept);
  $("docs").addEventListener("input", updateDocsState);
  $("docs-file").addEventListener("change", async () => {
    await addDocFiles([...$("docs-file").files]);
    $("docs-file").value = "";
  });
  $("docs-clear").addEventListener("click", () => {
    $("docs").value = "";
    updateDocsState();
    $("docs").focus();
  });
  for (const id of ["doc-prompt", "query-prompt", "dim"]) $(id).addEventListener("change", updatePromptPreview);
  $("doc-title").addEventListener("input", updatePromptPreview);
  $("embed-docs").addEventListener("click", embedDocuments);
  $("search-form").addEventListener("submit", search);

  // ?model=URL loads that model; otherwise the last one, at once if this browser kept it.
  const asked = new URLSearchParams(location.search).get("model");
  const last = localStorage.getItem(LAST_MODEL);
  // A ?model= that is no URL is the field's error (it threw here, and the page half started).
  $("model-url").value = asked ?? (last && !isKeptFileKey(last) ? last : PRESETS[0].url);
  syncPresetToUrl();
  refreshKept().then(async () => {
    if (asked !== null) return loadUrlField();
    if (last && (await listCachedModels()).some((e) => e.url === last)) {
      return load(last, fileNameOf(last));  // a kept file's key ends in its name, too
    }
  });
}

start();
