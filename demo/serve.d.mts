// Types of serve.mjs, for the TypeScript that imports it (tests, bench/browser.ts).
import type { Server } from 'node:http';
export function serveStatic(dir: string, options?: { port?: number; host?: string }): Promise<Server>;
