// Test helpers for the Chromium tests: a static server of the repository and a headless browser.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

export const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const TYPES = { ".html": "text/html", ".css": "text/css", ".js": "text/javascript",
                ".mjs": "text/javascript", ".wasm": "application/wasm",
                ".gguf": "application/octet-stream" };

/**
 * Serves the repository read-only on 127.0.0.1, plus `extra` (URL path -> file path or
 * {body, type}). `isolated` adds the headers that make a page cross-origin isolated
 * (SharedArrayBuffer, hence the threads build). `onRequest(path, req)` is called for every request
 * (to count downloads); `lengths` sends files with a Content-Length, as most servers do (download
 * progress then knows the total). Resolves to {server, base}.
 */
export function serve({ extra = {}, isolated = false, onRequest, lengths = false } = {}) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    onRequest?.(path, req);
    const served = extra[path];
    const headers = isolated
      ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }
      : {};
    if (served?.body !== undefined) {
      res.writeHead(200, { ...headers, "content-type": served.type }).end(served.body);
      return;
    }
    const file = served ?? normalize(join(root, path));
    if (!file.startsWith(root) && !served || !existsSync(file)) {
      res.writeHead(404, headers).end("not found");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream",
                         ...(lengths ? { "content-length": body.length } : {}) });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () =>
    ok({ server, base: `http://127.0.0.1:${server.address().port}` })));
}

const CHROMIUM = {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"],
};

/**
 * Debian's Chromium, headless, kept off the network (this machine's network is closed), with
 * `args` added to its command line.
 */
export function launchChromium(args = []) {
  return chromium.launch({ ...CHROMIUM, args: [...CHROMIUM.args, ...args] });
}

/**
 * The same Chromium with a profile on disk in `userDataDir` (a context, not a browser): storage
 * as in a normal window, where the default contexts are incognito-like and keep storage in memory.
 */
export function launchChromiumProfile(userDataDir, options = {}) {
  return chromium.launchPersistentContext(userDataDir, { ...CHROMIUM, ...options });
}

// The processes descended from `pid` (from /proc; Linux only).
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the second field after the parenthesized command name.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  const out = [];
  const stack = [pid];
  while (stack.length) {
    for (const child of children.get(stack.pop()) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

/**
 * The peak resident memory (VmHWM), in MB, of the largest Chromium renderer process started by
 * this process (a page and its dedicated workers live in one renderer), or null where /proc
 * cannot tell (not Linux). Call it before the browser closes.
 */
export function rendererPeakRssMb() {
  if (!existsSync("/proc/self/stat")) return null;
  let peak = null;
  for (const pid of descendants(process.pid)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--type=renderer")) continue;
      const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      if (Number.isFinite(kb)) peak = Math.max(peak ?? 0, kb / 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}
