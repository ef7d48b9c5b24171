// The in-browser demo: load a GGUF from a file (or ?model=URL), embed lines, show similarities.
import { cosineSimilarity, loadEmbedder } from "../../js/dist/index.js";

const $ = (id) => document.getElementById(id);
let embedder = null;

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function load(source) {
  embedder?.dispose();
  embedder = null;
  $("embed").disabled = true;
  const started = performance.now();
  try {
    embedder = await loadEmbedder(source, {
      onProgress: ({ loaded, total }) =>
        status(`loading ${(loaded / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ""} MB`),
    });
    const { name, dim, warnings, prompts } = embedder.info;
    // The model's task prompts (both EmbeddingGemma generations have the same names).
    const menu = $("prompt");
    menu.replaceChildren(new Option("no prompt", ""), ...prompts.map((p) => new Option(p, p)));
    status(`${name || "model"} ready (${dim} dimensions, ${((performance.now() - started) / 1000).toFixed(1)} s)` +
           (warnings.length ? ` — note: ${warnings.join("; ")}` : ""));
    $("embed").disabled = false;
  } catch (e) {
    status(`${e.code ?? "error"}: ${e.message}`, true);
  }
}

async function embed() {
  const texts = $("texts").value.split("\n").filter((t) => t.trim() !== "");
  const options = { dim: Number($("dim").value) };
  if ($("prompt").value) options.prompt = $("prompt").value;
  try {
    const started = performance.now();
    const results = await embedder.embedBatch(texts, options);
    const ms = performance.now() - started;
    const table = $("matrix");
    table.replaceChildren();
    for (let a = 0; a < texts.length; a++) {
      const row = table.insertRow();
      const th = document.createElement("th");
      th.textContent = texts[a];
      row.appendChild(th);
      for (let b = 0; b < texts.length; b++) {
        row.insertCell().textContent = cosineSimilarity(results[a].vector, results[b].vector).toFixed(3);
      }
    }
    status(`${texts.length} texts, ${results.reduce((s, r) => s + r.tokens, 0)} tokens in ${ms.toFixed(0)} ms`);
    window.__results = results.map((r) => Array.from(r.vector));  // for the browser test
  } catch (e) {
    status(`${e.code ?? "error"}: ${e.message}`, true);
  }
}

$("file").addEventListener("change", () => $("file").files[0] && load($("file").files[0]));
$("embed").addEventListener("click", embed);
const url = new URLSearchParams(location.search).get("model");
if (url) load(new URL(url, location.href));
