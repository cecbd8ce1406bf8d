// Context database (716-728): a fixed open-addressing table (twin of assembly/flow-table.ts).
// Linear probing over 2^k slots, at least twice maxFlows, so probing never refuses early and
// "full" means exactly maxFlows live entries. Deletion shifts back the following run of the
// cluster (no tombstones), so probe lengths never degrade with churn.
import { KEY_WORDS } from './parse.js';

const EMPTY = 0; // slot value: 0 = empty, else flow index + 1
/** Hint slots (assembly/flow-table.ts HINTS), each 0 or flow index + 1, with the mix that found it. */
const HINTS = 1024;
const HINT_SHIFT = 22; // 32 − log2(HINTS)

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

/**
 * The hint mix of a key: its words mixed (the source address's words together, the
 * destination's rotated so that the two directions differ), unseeded and cheap; its top bits
 * pick the hint slot. Only a hint: the mix, then a full key compare decide, and the seeded table
 * is behind it.
 */
function hintMix(key: Uint32Array, at = 0): number {
  const src = key[at + 2] ^ key[at + 3] ^ key[at + 4] ^ key[at + 5];
  const dst = key[at + 6] ^ key[at + 7] ^ key[at + 8] ^ key[at + 9];
  const x = key[at] ^ rotl(key[at + 1], 7) ^ src ^ rotl(dst, 13);
  return Math.imul(x, 0x9e3779b1) >>> 0;
}

/** Seeded 32-bit hash of a flow key (murmur3 mixing). The seed keeps crafted keys from colliding. */
export function hashKey(key: Uint32Array, seed: number): number {
  let h = seed ^ 0x9e3779b9;
  for (let i = 0; i < KEY_WORDS; i++) {
    let k = Math.imul(key[i], 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function slotCount(maxFlows: number): number {
  let n = 8;
  while (n < maxFlows * 2) n *= 2;
  return n;
}

export class FlowTable {
  readonly slots: Uint32Array;
  /** The hash of the flow in each slot: probing and deletion compare it without the flow's own fields. */
  private readonly slotHashes: Uint32Array;
  readonly keys: Uint32Array; //   KEY_WORDS per flow index
  readonly hashes: Uint32Array;
  private readonly free: Int32Array; // stack of free flow indices
  private freeTop: number;
  active = 0;
  private readonly mask: number;
  /**
   * The flow the last lookup found or made, or -1 once deleted: a frame's flow is most often its
   * predecessor's (bulk traffic, a NIC ring's batch), so lookup() compares that key first, then
   * the key's hint (interleaved flows), and only then hashes.
   */
  private lastFlow = -1;
  // When lookup() returns -1: the key's hash, its hint slot and mix, which insert takes.
  private lookupHash = 0;
  private lookupHint = 0;
  private lookupMix = 0;
  /** Where a key's hint mix (hintMix) last found its flow: flow index + 1, or 0. */
  private readonly hints = new Uint32Array(HINTS);
  /** The whole mix that found each hint's flow, compared before the flow's key. */
  private readonly hintMixes = new Uint32Array(HINTS);

  constructor(
    readonly maxFlows: number,
    private readonly seed: number,
  ) {
    this.slots = new Uint32Array(slotCount(maxFlows));
    this.slotHashes = new Uint32Array(this.slots.length);
    this.mask = this.slots.length - 1;
    this.keys = new Uint32Array(maxFlows * KEY_WORDS);
    this.hashes = new Uint32Array(maxFlows);
    this.free = new Int32Array(maxFlows);
    // Lowest index first, so both engines hand out the same indices.
    for (let i = 0; i < maxFlows; i++) this.free[i] = maxFlows - 1 - i;
    this.freeTop = maxFlows;
  }

  /** 716-722: the flow of `key`, or -1 (then insert(key) may add it). */
  lookup(key: Uint32Array): number {
    const last = this.lastFlow;
    if (last !== -1 && this.sameKey(last, key)) return last;
    const mix = hintMix(key);
    const hint = mix >>> HINT_SHIFT;
    const s = this.hints[hint];
    if (s !== 0 && this.hintMixes[hint] === mix && this.sameKey(s - 1, key)) {
      this.lastFlow = s - 1;
      return s - 1;
    }
    const h = hashKey(key, this.seed);
    const f = this.find(key, h);
    if (f !== -1) {
      this.hints[hint] = f + 1;
      this.hintMixes[hint] = mix;
      this.lastFlow = f;
    } else {
      this.lookupHash = h;
      this.lookupHint = hint;
      this.lookupMix = mix;
    }
    return f;
  }

  /** Flow index of `key` with hash h (718-722), or -1. */
  private find(key: Uint32Array, h: number): number {
    const slots = this.slots;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = slots[i];
      if (s === EMPTY) return -1;
      if (this.slotHashes[i] === h && this.sameKey(s - 1, key)) return s - 1;
    }
  }

  isFull(): boolean {
    return this.active === this.maxFlows;
  }

  /** Add a connection (728): `key`, for which lookup() just returned -1; !isFull(). */
  insert(key: Uint32Array): number {
    const h = this.lookupHash;
    const f = this.free[--this.freeTop];
    this.keys.set(key, f * KEY_WORDS);
    this.hashes[f] = h;
    let i = h & this.mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
    this.slots[i] = f + 1;
    this.slotHashes[i] = h;
    this.active++;
    this.lastFlow = f;
    this.hints[this.lookupHint] = f + 1;
    this.hintMixes[this.lookupHint] = this.lookupMix;
    return f;
  }

  /** Delete a connection (758), shifting the rest of its cluster back. */
  remove(f: number): void {
    const mask = this.mask;
    const slots = this.slots;
    const slotHashes = this.slotHashes;
    let i = this.hashes[f] & mask;
    while (slots[i] !== f + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; slots[j] !== EMPTY; j = (j + 1) & mask) {
      const home = slotHashes[j] & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const homeBetween = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!homeBetween) {
        slots[i] = slots[j];
        slotHashes[i] = slotHashes[j];
        i = j;
      }
    }
    slots[i] = EMPTY;
    this.free[this.freeTop++] = f;
    this.active--;
    if (f === this.lastFlow) this.lastFlow = -1;
    const hint = hintMix(this.keys, f * KEY_WORDS) >>> HINT_SHIFT; // its key is still in place
    if (this.hints[hint] === f + 1) this.hints[hint] = 0;
  }

  private sameKey(f: number, key: Uint32Array): boolean {
    const keys = this.keys;
    const at = f * KEY_WORDS;
    for (let w = 0; w < KEY_WORDS; w++) if (keys[at + w] !== key[w]) return false;
    return true;
  }
}
