// The demo page: input (a dropped or picked file, or a generated sample), options, progress, and
// the results the worker (worker.ts) sends back — numbers, SVG plots (charts.ts), a per-connection
// table and the coalesced capture to download. All the work happens in the worker.
import { PASS_THROUGH_CAUSES, REASONS } from '../../bindings/abi.js';
import { bars, escapeXml, histogram, int, reasons, timeline } from './charts.js';
import type { DemoOptions, DemoResult, FromWorker, Phase, RunInput } from './protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let busy = false;
let downloadUrl: string | null = null;
let last: DemoResult | null = null;

function options(): DemoOptions {
  return {
    engine: $<HTMLSelectElement>('engine').value as DemoOptions['engine'],
    preset: $<HTMLSelectElement>('preset').value as DemoOptions['preset'],
    aggregateTimeoutUs: Number($<HTMLInputElement>('timeout').value),
    maxAggregate: Number($<HTMLInputElement>('max-aggregate').value),
    verifyChecksums: $<HTMLInputElement>('verify').checked,
  };
}

function setStatus(text: string, state: 'idle' | 'running' | 'done' | 'error'): void {
  const s = $('status');
  s.textContent = text;
  s.dataset.state = state;
}

const PHASES: Record<Phase, string> = {
  generating: 'Generating the sample…',
  analysing: 'Reading the capture…',
  coalescing: 'Coalescing…',
};

function start(input: RunInput, transfer: Transferable[] = []): void {
  if (busy) return;
  busy = true;
  $('error').textContent = '';
  $<HTMLButtonElement>('again').disabled = true;
  const bar = $<HTMLProgressElement>('progress');
  bar.hidden = false;
  bar.value = 0;
  setStatus('Starting…', 'running');
  worker.postMessage({ type: 'run', input, options: options() }, transfer);
}

worker.onmessage = (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  if (m.type === 'progress') {
    const bar = $<HTMLProgressElement>('progress');
    // Reading the capture (the plots' data) is the first half of the bar, coalescing the second.
    if (m.phase === 'generating') {
      bar.removeAttribute('value'); // indeterminate
    } else bar.value = m.phase === 'analysing' ? m.fraction / 2 : 0.5 + m.fraction / 2;
    setStatus(PHASES[m.phase], 'running');
    return;
  }
  busy = false;
  $<HTMLProgressElement>('progress').hidden = true;
  if (m.type === 'error') {
    $('error').textContent = m.message;
    setStatus('Failed.', 'error');
    $<HTMLButtonElement>('again').disabled = last === null;
    return;
  }
  last = m.result;
  show(m.result, m.output);
  $<HTMLButtonElement>('again').disabled = false;
  setStatus(
    `Done: ${m.result.name} in ${m.result.elapsedMs.toFixed(0)} ms (${m.result.options.engine === 'wasm' ? 'WebAssembly' : 'TypeScript twin'}).`,
    'done',
  );
};

worker.onerror = (ev) => {
  busy = false;
  $('error').textContent = `worker: ${ev.message}`;
  setStatus('Failed.', 'error');
};

async function openFile(file: File): Promise<void> {
  const bytes = await file.arrayBuffer();
  start({ kind: 'file', name: file.name, bytes }, [bytes]);
}

const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const file = ev.dataTransfer?.files[0];
  if (file) void openFile(file);
});
$<HTMLInputElement>('file').addEventListener('change', (ev) => {
  const input = ev.target as HTMLInputElement;
  const file = input.files?.[0];
  if (file) void openFile(file);
  input.value = '';
});
$('sample-bulk').addEventListener('click', () => start({ kind: 'sample', sample: 'bulk' }));
$('sample-mixed').addEventListener('click', () => start({ kind: 'sample', sample: 'mixed' }));
$('again').addEventListener('click', () => start({ kind: 'again' }));

function show(r: DemoResult, output: ArrayBuffer): void {
  const s = r.stats;
  $('results').hidden = false;
  $('title').textContent = `${r.name}: ${r.format}, ${r.interfaces} interface${r.interfaces === 1 ? '' : 's'}, preset ${r.options.preset}`;
  $('packets-in').textContent = int(s.packetsIn);
  $('packets-out').textContent = int(s.packetsOut);
  $('reduction').textContent = s.packetsIn > 0 ? `${((1 - s.packetsOut / s.packetsIn) * 100).toFixed(1)} %` : '–';
  $('aggregates').textContent = int(s.aggregates);
  let multi = 0;
  let multiSegments = 0;
  r.histogram.forEach((c, n) => {
    if (n >= 2) {
      multi += c;
      multiSegments += c * n;
    }
  });
  $('mean-segments').textContent = multi > 0 ? (multiSegments / multi).toFixed(1) : '–';
  $('passed-through').textContent = int(s.passedThrough);
  $('throughput').textContent = `${(s.packetsIn / 1e3 / Math.max(r.elapsedMs, 0.001)).toFixed(2)} Mpps`;
  $('throughput-note').textContent = `in the worker, reading and writing included (${r.elapsedMs.toFixed(0)} ms)`;

  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([output], { type: 'application/vnd.tcpdump.pcap' }));
  const a = $<HTMLAnchorElement>('download');
  a.href = downloadUrl;
  a.download = r.outputName;
  a.textContent = `Download ${r.outputName}`;
  $('download-note').textContent = `(${int(r.outputBytes)} bytes; input ${int(r.inputBytes)} bytes)`;

  $('chart-counts').innerHTML = bars(
    [
      { label: 'packets in', value: s.packetsIn, cls: 'before' },
      { label: 'packets out', value: s.packetsOut, cls: 'agg' },
    ],
    'packets before and after',
  );
  $('chart-histogram').innerHTML = histogram(r.histogram, 'segments per aggregate');
  $('chart-reasons').innerHTML = reasons(s.reasons, 'why packets were sent');
  $('reasons').querySelector('tbody')!.innerHTML = REASONS.filter((name) => s.reasons[name] > 0)
    .map((name) => `<tr data-reason="${name}"><td>${name}</td><td>${int(s.reasons[name])}</td></tr>`)
    .join('');
  // Why frames went out unchanged (CONTRACT §2 causes), most first.
  $('causes').querySelector('tbody')!.innerHTML = PASS_THROUGH_CAUSES.filter((name) => s.passThroughCauses[name] > 0)
    .sort((a, b) => s.passThroughCauses[b] - s.passThroughCauses[a])
    .map((name) => `<tr data-cause="${name}"><td>${name}</td><td>${int(s.passThroughCauses[name])}</td></tr>`)
    .join('');

  const select = $<HTMLSelectElement>('connection');
  select.innerHTML = r.timelines
    .map((t, i) => {
      const c = r.connections.find((row) => row.key === t.key);
      return `<option value="${i}">${escapeXml(c ? `${c.label} — ${int(c.packetsIn)} packets` : t.key)}</option>`;
    })
    .join('');
  select.onchange = () => drawTimeline(r, Number(select.value));
  drawTimeline(r, 0);

  const shown = r.connections.slice(0, 40);
  $('connections-note').textContent =
    r.connections.length > shown.length ? `The ${shown.length} busiest of ${int(r.connections.length)} connections.` : '';
  $('connections').querySelector('tbody')!.innerHTML = shown
    .map((c) => {
      const why = Object.entries(c.reasons)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${int(v)}`)
        .join(', ');
      const mean = c.aggregates > 0 ? (c.segments / c.aggregates).toFixed(1) : '–';
      return `<tr><td>${escapeXml(c.label)}</td><td>${int(c.packetsIn)}</td><td>${int(c.bytesIn)}</td><td>${int(c.packetsOut)}</td><td>${int(c.bytesOut)}</td><td>${mean}</td><td class="reasons">${escapeXml(why)}</td></tr>`;
    })
    .join('');
}

/** The timeline's window: its width (µs, 0 = all) and where it starts, as a share of the connection's span. */
function drawTimeline(r: DemoResult, i: number): void {
  const t = r.timelines[i];
  const el = $('chart-timeline');
  if (!t) {
    el.textContent = 'No TCP connection with payload in this capture.';
    return;
  }
  const first = Math.min(t.inT[0] ?? 0, t.outT[0] ?? 0);
  const last = Math.max(t.inT[t.inT.length - 1] ?? 0, t.outT[t.outT.length - 1] ?? 0);
  const width = Number($<HTMLSelectElement>('window').value);
  const share = Number($<HTMLInputElement>('window-start').value) / 1000;
  const from = width > 0 ? first + share * Math.max(0, last - first - width) : first;
  const to = width > 0 ? from + width : last;
  el.innerHTML = timeline(t, 'timeline', from, to) + (t.truncated ? "<p>(the connection's first points only)</p>" : '');
}
for (const id of ['window', 'window-start']) {
  $(id).addEventListener('input', () => {
    if (last) drawTimeline(last, Number($<HTMLSelectElement>('connection').value));
  });
}

// For scripts (test/demo.test.ts, the benchmark): the last result.
(window as unknown as { lastResult: () => DemoResult | null }).lastResult = () => last;
