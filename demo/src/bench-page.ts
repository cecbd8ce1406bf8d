// demo/bench.html: the browser benchmark (bench.ts) in the page, settings from the query string
// (?packets=&flows=&batch=&seconds=). bench/browser.ts (npm run bench:browser) opens it in
// Chromium and reads window.benchResult; opened by hand it shows a table.
import { BENCH_DEFAULTS, type BenchOutput, type BenchSettings, DELIVERIES, measure } from './bench.js';

const q = new URLSearchParams(location.search);
const num = (k: keyof BenchSettings) => (q.has(k) ? Number(q.get(k)) : BENCH_DEFAULTS[k]);
const settings: BenchSettings = { packets: num('packets'), flows: num('flows'), batch: num('batch'), seconds: num('seconds') };
const w = window as unknown as { benchResult?: BenchOutput; benchError?: string };
const out = document.getElementById('out')!;
out.textContent = `Measuring for about ${settings.seconds} s…`;

measure(settings).then(
  (r) => {
    w.benchResult = r;
    const rows = DELIVERIES.flatMap((d) =>
      (['wasm', 'ts'] as const).map((e) => {
        const f = r.figures[d][e];
        return `<tr><td>${d}</td><td>${e}</td><td>${f.mpps.toFixed(2)}</td><td>${f.nsPerFrame.toFixed(0)}</td></tr>`;
      }),
    );
    out.innerHTML = `<table><tr><th>delivery</th><th>engine</th><th>Mpps</th><th>ns/frame</th></tr>${rows.join('')}</table><p>${r.frames} frames per pass, ${r.packetsOut} packets out.</p>`;
  },
  (err: unknown) => {
    w.benchError = err instanceof Error ? err.message : String(err);
    out.textContent = `failed: ${w.benchError}`;
  },
);
