// Screenshots of the browser demo for the README, after a search, in headless Chromium:
// docs/demo-desktop.png (1280 wide, the whole page) and docs/demo-phone.png (390×844, the results).
//
//   node scripts/demo-screenshots.mjs [model.gguf]
//
// The model defaults to models/embeddinggemma-300m-synthetic-q8_0.gguf (made by scripts/run.sh,
// or here with build/ggufembed synth --preset 300m): EmbeddingGemma-300M's real shapes, so the
// timings are realistic, but random weights, so the scores show the engine working, not meaning.
import { spawnSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { launchChromiumProfile, root, serve } from "../tests/browser/browser_util.mjs";

const model = resolve(process.argv[2] ?? join(root, "models/embeddinggemma-300m-synthetic-q8_0.gguf"));
if (!existsSync(model)) {
  const cli = process.env.GGUFEMBED_CLI ?? join(root, "build/ggufembed");
  mkdirSync(join(root, "models"), { recursive: true });
  const r = spawnSync(cli, ["synth", "--preset", "300m", "-o", model], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cli} synth failed`);
}

// The page loads its first preset; the download from huggingface.co (out of reach here) is
// redirected to a local server of the synthetic model, with CORS as Hugging Face sends it.
const PRESET = "https://huggingface.co/ggml-org/embeddinggemma-300M-GGUF/resolve/main/embeddinggemma-300M-Q8_0.gguf";
const { server, base } = await serve({});
const files = createServer((req, res) => {
  res.writeHead(200, { "access-control-allow-origin": "*", "content-type": "application/octet-stream",
                       "content-length": statSync(model).size });
  createReadStream(model).pipe(res);
});
await new Promise((ok) => files.listen(0, "127.0.0.1", ok));
const mirror = `http://127.0.0.1:${files.address().port}/embeddinggemma-300M-Q8_0.gguf`;
try {
  for (const [name, viewport, scale] of [["desktop", { width: 1280, height: 900 }, 1],
                                         ["phone", { width: 390, height: 844 }, 2]]) {
    // A profile on disk: the Cache API of incognito-like contexts is in memory and refuses a
    // model this large, so the page could not show it kept.
    const profile = mkdtempSync(join(tmpdir(), "ggufembed-shots-"));
    const context = await launchChromiumProfile(profile, {
      viewport, deviceScaleFactor: scale, isMobile: name === "phone", hasTouch: name === "phone" });
    await context.route(PRESET, (route) => route.fulfill({
      status: 302, headers: { location: mirror, "access-control-allow-origin": "*" },
    }));
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error(e));
    await page.goto(`${base}/examples/browser/index.html`);
    await page.click("#load-url");
    await page.waitForSelector("#model-info:not([hidden]), #model-error:not([hidden])", { timeout: 300_000 });
    if (await page.isVisible("#model-error")) throw new Error(await page.textContent("#model-error"));
    await page.waitForSelector("#kept-list li", { timeout: 120_000 });
    await page.click("#search");
    await page.waitForSelector("#results li", { timeout: 300_000 });
    if (name === "phone") {
      // The search card with its results, as a phone user sees it after searching.
      await page.evaluate(() => scrollTo(0, document.getElementById("search-card").offsetTop - 12));
    }
    const path = join(root, "docs", `demo-${name}.png`);
    await page.screenshot({ path, fullPage: name === "desktop" });
    // Fewer colours (pngquant, Debian's package, when it is there) make the files a third the size.
    spawnSync("pngquant", ["--quality", "70-90", "--strip", "--force", "--output", path, path]);
    console.log(`wrote ${path}`);
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
} finally {
  server.close();
  files.close();
}
