import { pathToFileURL } from "node:url";
const [dir, model, nTok] = process.argv.slice(2);
const url = dir === "default" ? "node-llama-cpp" : pathToFileURL(`${dir}/node_modules/node-llama-cpp/dist/index.js`).href;
const { getLlama, LlamaLogLevel } = await import(url);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const m = await llama.loadModel({ modelPath: model });
const ctx = await m.createEmbeddingContext({ threads: 1, contextSize: 2048, batchSize: 2048 });
const words = "Search engines once matched words; today they match meanings. An embedding model reads a sentence and writes down a list of numbers in a space with hundreds of dimensions".split(" ");
let text = "The quick brown fox jumps over the lazy dog.";
if (nTok !== "short") { const w = []; while (m.tokenize(w.join(" ")).length + 2 < Number(nTok)) w.push(words[w.length % words.length]); text = w.join(" "); }
const ids = [2, ...m.tokenize(text), 1];
await ctx.getEmbeddingFor(ids);
const times = [];
for (let i = 0; i < 5; i++) { const t = performance.now(); await ctx.getEmbeddingFor(ids); times.push(performance.now() - t); }
times.sort((a, b) => a - b);
console.log(`${dir} ${ids.length} tokens: median ${times[2].toFixed(1)} ms (min ${times[0].toFixed(1)})`);
