// node:crypto's randomBytes, as the capture writer uses it (a temporary file name), for the demo's
// worker build (demo/build.mjs aliases node:crypto here).
export function randomBytes(n: number): { toString(encoding: 'hex'): string } {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return { toString: () => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') };
}
