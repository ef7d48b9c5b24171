// The Catch2 suite in wasm runs under Node: hand it the process's environment (emscripten's
// getenv sees a fixed default set otherwise), so tests read GGUFEMBED_* variables as natively.
Module["preRun"] = Module["preRun"] || [];
Module["preRun"].push(function () {
  for (var key in process.env) ENV[key] = process.env[key];
});
