// `lro generate -o FILE`: flags → generator options (traffic/generate.ts) and file options
// (traffic/write.ts).

import type { LinkType } from '../packet/constants.js';
import { resolveGenerateOptions, type GenerateOptions } from '../traffic/generate.js';
import { writeGenerated, type WriteOptions } from '../traffic/write.js';
import { UsageError, type Parsed } from './args.js';
import type { CliIo } from './io.js';
import { bytes, int } from './summary.js';
import { nowMs } from './clock.js';

const FLAG_OF: Record<string, string> = {
  seed: '--seed',
  packets: '--packets',
  flows: '--flows',
  mss: '--mss',
  lineRateGbps: '--line-rate',
  interleave: '--interleave',
  ackEvery: '--ack-every',
  loss: '--loss',
  reorder: '--reorder',
  duplicate: '--duplicate',
  pshEvery: '--psh-every',
  ipv6: '--ipv6',
  vlan: '--vlan',
  noise: '--noise',
  'smallSegments[0]': '--small-segments',
  'smallSegments[1]': '--small-segments',
  linkType: '--link-type',
  startTimeUs: '--start-time-us',
  seqStart: '--seq-start',
  flowSegments: '--flow-segments',
};

/** Generator options and file options from parsed flags (UsageError on bad values). */
export function generateOptionsFromFlags(parsed: Parsed): { gen: GenerateOptions; file: WriteOptions; output: string } {
  const f = parsed.flags;
  const output = f.get('output') as string | undefined;
  if (!output) throw new UsageError('lro generate: -o FILE is required (see lro generate --help)');
  if (parsed.positionals.length) throw new UsageError(`lro generate: unexpected argument '${parsed.positionals[0]}'`);
  const num = (k: string) => f.get(k) as number | undefined;
  const fileLink = num('link-type') ?? 1;
  if (![1, 113, 276, 101, 228, 229, 12, 14].includes(fileLink)) {
    throw new UsageError(`lro generate: --link-type must be one of 1, 113, 276, 101, 228, 229, 12, 14, got ${fileLink}`);
  }
  const genLink = (fileLink === 1 || fileLink === 113 || fileLink === 276 ? fileLink : 101) as LinkType;
  let small: [number, number] | undefined;
  const ss = f.get('small-segments') as string | undefined;
  if (ss !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(ss.trim());
    if (!m) throw new UsageError(`lro generate: --small-segments must be A-B (payload bytes), got '${ss}'`);
    small = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  const interleave = f.get('interleave') as string | undefined;
  if (interleave !== undefined && interleave !== 'random' && interleave !== 'round-robin') {
    throw new UsageError(`lro generate: --interleave must be random or round-robin, got '${interleave}'`);
  }
  const gen: GenerateOptions = {
    seed: num('seed'),
    packets: num('packets'),
    flows: num('flows'),
    mss: num('mss'),
    lineRateGbps: num('line-rate'),
    interleave: interleave as GenerateOptions['interleave'],
    ackEvery: num('ack-every'),
    loss: num('loss'),
    reorder: num('reorder'),
    duplicate: num('duplicate'),
    pshEvery: num('psh-every'),
    timestamps: f.get('no-timestamps') ? false : undefined,
    ipv6: num('ipv6'),
    vlan: num('vlan'),
    noise: num('noise'),
    smallSegments: small,
    handshake: f.get('no-handshake') ? false : undefined,
    flowSegments: num('flow-segments'),
    seqStart: num('seq-start'),
    startTimeUs: num('start-time-us'),
    linkType: genLink,
  };
  for (const k of Object.keys(gen) as (keyof GenerateOptions)[]) if (gen[k] === undefined) delete gen[k];
  let resolved: Required<GenerateOptions>;
  try {
    resolved = resolveGenerateOptions(gen);
  } catch (err) {
    if (err instanceof RangeError) {
      let msg = err.message.replace(/^generateTraffic: /, '');
      msg = msg.replace(/^(bad )?([\w[\]]+)/, (all, bad: string | undefined, name: string) =>
        FLAG_OF[name] ? `${bad ?? ''}${FLAG_OF[name]}` : all,
      );
      if (/raw IP .* VLAN/.test(msg)) msg = '--vlan needs an Ethernet --link-type';
      throw new UsageError(`lro generate: ${msg}`);
    }
    throw err;
  }
  if (fileLink === 228 && resolved.ipv6 !== 0)
    throw new UsageError('lro generate: --link-type 228 (raw IPv4) cannot carry IPv6 (--ipv6 must be 0)');
  if (fileLink === 229 && resolved.ipv6 !== 1) throw new UsageError('lro generate: --link-type 229 (raw IPv6) needs --ipv6 1');
  const formatFlag = f.get('format') as string | undefined;
  if (formatFlag !== undefined && formatFlag !== 'pcap' && formatFlag !== 'pcapng') {
    throw new UsageError(`lro generate: --format must be pcap or pcapng, got '${formatFlag}'`);
  }
  const format = (formatFlag ?? (/\.pcapng$/i.test(output) ? 'pcapng' : 'pcap')) as 'pcap' | 'pcapng';
  const res = f.get('resolution') as string | undefined;
  if (res !== undefined && res !== 'us' && res !== 'ns') throw new UsageError(`lro generate: --resolution must be us or ns, got '${res}'`);
  const snaplen = num('snaplen') ?? 262144;
  if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0xffffffff)
    throw new UsageError(`lro generate: --snaplen must be an integer in [0, 4294967295], got ${snaplen}`);
  if (f.get('packet-comments') && format !== 'pcapng') throw new UsageError('lro generate: --packet-comments needs --format pcapng');
  return {
    gen,
    output,
    file: {
      format,
      linkType: fileLink,
      ns: res === 'ns',
      bigEndian: f.get('big-endian') === true,
      snaplen,
      packetComments: f.get('packet-comments') === true,
    },
  };
}

export async function run(parsed: Parsed, io: CliIo): Promise<number> {
  const { gen, file, output } = generateOptionsFromFlags(parsed);
  const t0 = nowMs();
  const r = await writeGenerated(output, gen, file);
  const ms = nowMs() - t0;
  // With the capture on standard output, the summary goes to standard error.
  const say = output === '-' ? io.err : io.out;
  if (parsed.flags.get('json')) say(JSON.stringify({ ...r, elapsedMs: Math.round(ms * 1000) / 1000 }));
  else if (!parsed.flags.get('quiet'))
    say(
      `wrote ${int(r.packets)} packets (${bytes(r.bytes)}) to ${r.output} (${r.format}, link type ${r.linkType}) in ${(ms / 1000).toFixed(2)} s`,
    );
  return 0;
}
