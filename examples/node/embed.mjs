// Embeds a query and some documents with EmbeddingGemma's task prompts and ranks the documents.
// Usage: node examples/node/embed.mjs MODEL.gguf
// (In your own project: `npm install ggufembed` and import from "ggufembed".)
import { cosineSimilarity, loadEmbedder } from "../../js/dist/index.js";

const modelPath = process.argv[2];
if (!modelPath) {
  console.error("usage: node examples/node/embed.mjs MODEL.gguf");
  process.exit(2);
}

const embedder = await loadEmbedder(modelPath);
console.log(`${embedder.info.name}: ${embedder.info.dim} dimensions, ` +
            `${embedder.info.contextLength}-token context`);

const query = "Which planet is known as the red planet?";
const documents = [
  "Mars is called the red planet because of the iron oxide on its surface.",
  "Venus is the hottest planet in the solar system.",
  "The Great Barrier Reef is the largest coral reef system in the world.",
];

const q = await embedder.embed(query, { prompt: "query" });
const docs = await embedder.embedBatch(documents, { prompt: "document" });
const ranked = docs
  .map((d, i) => ({ text: documents[i], score: cosineSimilarity(q.vector, d.vector) }))
  .sort((a, b) => b.score - a.score);
for (const { text, score } of ranked) console.log(`${score.toFixed(4)}  ${text}`);

// Matryoshka: a shorter vector is the first components, renormalized (256 of EmbeddingGemma's 768).
const dim = embedder.info.dim >= 512 ? 256 : embedder.info.dim / 2;
const small = await embedder.embed(query, { prompt: "query", dim });
console.log(`dim ${dim}: ${small.vector.length} values, ${small.tokens} tokens`);
embedder.dispose();
