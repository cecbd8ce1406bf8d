// node:zlib in the page: the capture reader only calls gunzipSync for gzip-compressed input,
// which the demo does not decompress (a .gz file is refused with one line, like a bad file).
export function gunzipSync(): Uint8Array {
  throw new Error('gzip-compressed captures are not read in the browser: decompress the file first');
}
