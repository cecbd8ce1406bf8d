// Context database (716-728): a fixed open-addressing table (twin: bindings/twin/flow-table.ts).
// Linear probing over 2^k slots, at least twice maxFlows, so probing never refuses early and
// "full" means exactly maxFlows live entries. Deletion shifts back the following run of the
// cluster (no tombstones), so probe lengths never degrade with churn.
//
// slots: 8 bytes × slotCount at slotsBase: u32 0 (empty) or flow index + 1, then u32 the flow's
//        hash, so that probing and deletion compare hashes without touching flow records
//        (with many flows a record is a cache miss).
// free:  i32 × maxFlows at freeBase, a stack of unused flow indices (lowest on top at start).
// hints: 8 bytes × HINTS at hintsBase: u32 0 or flow index + 1, then u32 the key's whole mix
//        (hintMix): where that mix last found its flow (lookup). The mix is compared before the
//        flow's record is read. Only a hint: a full key compare decides, and the seeded table is
//        behind it, so crafted keys can make it miss, never mislead.
import { KEY_BYTES } from './parse';
import { F_HASH, NONE, flowPtr } from './flow';

export let slotsBase: usize = 0;
export let freeBase: usize = 0;
export let hintsBase: usize = 0;
/** Hint slots (a power of two: 8 KiB). */
export const HINTS: i32 = 1024;
const HINT_SHIFT: u32 = 22; // 32 − log2(HINTS)
let slotMask: u32 = 0;
export let maxFlows: i32 = 0;
export let active: i32 = 0;
let freeTop: i32 = 0;
let seed: u32 = 0;
/**
 * The flow the last lookup found or made, or NONE once deleted: a frame's flow is most often its
 * predecessor's (bulk traffic, a NIC ring's batch), so lookup() compares that key first, then the
 * key's hint (interleaved flows), and only then hashes.
 */
let lastFlow: i32 = NONE;
// When lookup() returns NONE: the key's hash, its hint slot and mix, which tableInsert takes.
let lookupHash: u32 = 0;
let lookupHint: usize = 0;
let lookupMix: u32 = 0;

export function slotCount(flows: i32): i32 {
  let n = 8;
  while (n < flows * 2) n *= 2;
  return n;
}

export function tableInit(flows: i32, hashSeed: u32): void {
  maxFlows = flows;
  seed = hashSeed;
  const slots = slotCount(flows);
  slotMask = <u32>slots - 1;
  memory.fill(slotsBase, 0, <usize>slots << 3);
  for (let i = 0; i < flows; i++) store<i32>(freeBase + (<usize>i << 2), flows - 1 - i);
  freeTop = flows;
  active = 0;
  lastFlow = NONE;
  memory.fill(hintsBase, 0, <usize>HINTS << 3);
}

/** Seeded 32-bit hash of the key at k (murmur3 mixing). The seed keeps crafted keys from colliding. */
export function hashKey(k: usize): u32 {
  let h: u32 = seed ^ 0x9e3779b9;
  for (let i: usize = 0; i < <usize>KEY_BYTES; i += 4) {
    let w = load<u32>(k + i) * 0xcc9e2d51;
    w = rotl<u32>(w, 15) * 0x1b873593;
    h ^= w;
    h = rotl<u32>(h, 13) * 5 + 0xe6546b64;
  }
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  return h ^ (h >> 16);
}

@inline function sameKey(f: i32, k: usize): bool {
  const p = flowPtr(f);
  return load<u64>(p) == load<u64>(k) && load<u64>(p, 8) == load<u64>(k, 8) &&
    load<u64>(p, 16) == load<u64>(k, 16) && load<u64>(p, 24) == load<u64>(k, 24) &&
    load<u64>(p, 32) == load<u64>(k, 32);
}

@inline function slotAt(i: u32): usize {
  return slotsBase + (<usize>i << 3);
}

/** 716-722: the flow of the key at k, or NONE (then tableInsert(k) may add it). */
@inline export function lookup(k: usize): i32 {
  const last = lastFlow;
  if (last != NONE && sameKey(last, k)) return last;
  return lookupElsewhere(k);
}

/** lookup() when the key is not the last flow's: its hint, else the table. */
function lookupElsewhere(k: usize): i32 {
  const mix = hintMix(k);
  const hint = hintsBase + (<usize>(mix >> HINT_SHIFT) << 3);
  const s = load<u32>(hint);
  if (s != 0 && load<u32>(hint, 4) == mix && sameKey(<i32>s - 1, k)) {
    lastFlow = <i32>s - 1;
    return lastFlow;
  }
  const h = hashKey(k);
  const f = tableFind(k, h);
  if (f != NONE) {
    store<u32>(hint, <u32>f + 1);
    store<u32>(hint, mix, 4);
    lastFlow = f;
  } else {
    lookupHash = h;
    lookupHint = hint;
    lookupMix = mix;
  }
  return f;
}

/**
 * The hint mix of the key at k: its words mixed (the source address's words together, the
 * destination's rotated so that the two directions differ), unseeded and cheap; its top bits
 * pick the hint slot (twin: hintMix).
 */
@inline function hintMix(k: usize): u32 {
  const src = load<u32>(k, 8) ^ load<u32>(k, 12) ^ load<u32>(k, 16) ^ load<u32>(k, 20);
  const dst = load<u32>(k, 24) ^ load<u32>(k, 28) ^ load<u32>(k, 32) ^ load<u32>(k, 36);
  const x = load<u32>(k) ^ rotl<u32>(load<u32>(k, 4), 7) ^ src ^ rotl<u32>(dst, 13);
  return x * 0x9e3779b1;
}

/** Flow index of the key at k with hash h (718-722), or NONE. */
function tableFind(k: usize, h: u32): i32 {
  for (let i = h & slotMask; ; i = (i + 1) & slotMask) {
    const s = load<u32>(slotAt(i));
    if (s == 0) return NONE;
    if (load<u32>(slotAt(i), 4) == h && sameKey(<i32>s - 1, k)) return <i32>s - 1;
  }
  return NONE; // unreachable: the table always has empty slots
}

/** Add a connection (728): the key at k, for which lookup() just returned NONE; active < maxFlows. */
export function tableInsert(k: usize): i32 {
  if (!ASC_NO_ASSERT) assert(active < maxFlows, 'tableInsert: table full');
  const f = load<i32>(freeBase + (<usize>(--freeTop) << 2));
  const p = flowPtr(f);
  memory.copy(p, k, KEY_BYTES);
  const h = lookupHash;
  store<u32>(p, h, F_HASH);
  let i = h & slotMask;
  while (load<u32>(slotAt(i)) != 0) i = (i + 1) & slotMask;
  store<u32>(slotAt(i), <u32>f + 1);
  store<u32>(slotAt(i), h, 4);
  active++;
  lastFlow = f;
  store<u32>(lookupHint, <u32>f + 1);
  store<u32>(lookupHint, lookupMix, 4);
  return f;
}

/** Delete a connection (758), shifting the rest of its cluster back. */
export function tableRemove(f: i32): void {
  const mask = slotMask;
  if (!ASC_NO_ASSERT) assert(f >= 0 && f < maxFlows && active > 0, 'tableRemove: no such flow');
  let i = load<u32>(flowPtr(f), F_HASH) & mask;
  while (load<u32>(slotAt(i)) != <u32>f + 1) {
    if (!ASC_NO_ASSERT) assert(load<u32>(slotAt(i)) != 0, 'tableRemove: the flow is not in the table');
    i = (i + 1) & mask;
  }
  for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
    const s = load<u64>(slotAt(j));
    if (<u32>s == 0) break;
    const home = <u32>(s >> 32) & mask;
    // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
    const homeBetween = i <= j ? home > i && home <= j : home > i || home <= j;
    if (!homeBetween) {
      store<u64>(slotAt(i), s);
      i = j;
    }
  }
  store<u64>(slotAt(i), 0);
  store<i32>(freeBase + (<usize>(freeTop++) << 2), f);
  active--;
  if (f == lastFlow) lastFlow = NONE;
  const hint = hintsBase + (<usize>(hintMix(flowPtr(f)) >> HINT_SHIFT) << 3); // its key is still in its record
  if (load<u32>(hint) == <u32>f + 1) store<u64>(hint, 0);
}
