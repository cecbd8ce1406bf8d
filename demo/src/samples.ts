// The demo's built-in samples: generated traffic (bindings/traffic/generate.ts), written as
// `lro generate` writes it (bindings/traffic/write.ts). The worker makes them in the page;
// test/demo.test.ts makes the same files in Node to check the page against the CLI.
import type { GenerateOptions } from '../../bindings/traffic/generate.js';
import type { WriteOptions } from '../../bindings/traffic/write.js';
import type { SampleName } from './protocol.js';

/** The built-in samples: generated traffic, written as `lro generate` writes it. */
export const SAMPLES: Record<SampleName, { name: string; gen: GenerateOptions; file: WriteOptions }> = {
  bulk: {
    name: 'bulk.pcap',
    gen: { seed: 1, packets: 60_000, flows: 8 },
    file: { format: 'pcap', linkType: 1, ns: false, bigEndian: false, snaplen: 262144, packetComments: false },
  },
  mixed: {
    name: 'mixed.pcapng',
    gen: {
      seed: 7,
      packets: 60_000,
      flows: 48,
      loss: 0.01,
      reorder: 0.01,
      duplicate: 0.005,
      pshEvery: 24,
      ipv6: 0.3,
      noise: 0.02,
      flowSegments: 400,
      lineRateGbps: 1,
    },
    file: { format: 'pcapng', linkType: 1, ns: true, bigEndian: false, snaplen: 262144, packetComments: true },
  },
};
