// Runs the TypeScript module workerData.script in a worker_thread (through tsx, as vitest runs tests).
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.script, import.meta.url);
