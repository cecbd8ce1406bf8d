// The wasm loader for browsers, workers and bundlers (package.json "imports" → "#load-wasm",
// conditions "browser" and "default"): no Node built-in. The module is compiled while it
// downloads (WebAssembly.compileStreaming) when the server sends it as application/wasm, which
// compileStreaming requires; from the bytes otherwise.

/** Compile the module at `url`. Rejects on an HTTP error, naming the URL. */
export async function compileWasm(url: URL): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url.href}: HTTP ${response.status}`);
  const type = response.headers.get('content-type')?.split(';')[0].trim().toLowerCase();
  if (type === 'application/wasm' && typeof WebAssembly.compileStreaming === 'function') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}
