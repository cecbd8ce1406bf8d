// Types of build.mjs, for the TypeScript that imports it (tests, bench/browser.ts).
export function buildDemo(options?: { outdir?: string; minify?: boolean }): Promise<{ outdir: string; files: Record<string, number> }>;
