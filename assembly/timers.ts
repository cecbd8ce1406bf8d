// AgTimer and DelTimer (743, 724, 780, 790) as deadline-ordered intrusive lists through the flow
// records (twin: bindings/twin/timers.ts). Each timer has a fixed period and the clock never goes
// back, so appending at the tail keeps a list sorted by deadline: the head pops next.
import { F_AG_AT, F_AG_NEXT, F_AG_PREV, NONE, flowPtr } from './flow';

export const AG_TIMER: i32 = 0;
export const DEL_TIMER: i32 = 1;
// List l uses the record fields F_AG_* + l * 8 (agAt/delAt, agPrev/delPrev, agNext/delNext).
export let agHead: i32 = NONE;
export let delHead: i32 = NONE;
export let agTail: i32 = NONE; // read by a debug assertion in engine.ts
let delTail: i32 = NONE;

export function timersInit(): void {
  agHead = NONE;
  delHead = NONE;
  agTail = NONE;
  delTail = NONE;
}

@inline export function deadlineOf(l: i32, f: i32): f64 {
  return load<f64>(flowPtr(f) + F_AG_AT + (<usize>l << 3));
}

@inline function linkPrev(l: i32, f: i32): usize {
  return flowPtr(f) + F_AG_PREV + (<usize>l << 3);
}

@inline function linkNext(l: i32, f: i32): usize {
  return flowPtr(f) + F_AG_NEXT + (<usize>l << 3);
}

/** The aggregate started after flow f's (the next in the AgTimer list), or NONE. */
@inline export function agNextOf(f: i32): i32 {
  return load<i32>(linkNext(AG_TIMER, f));
}

/** Start (or restart) flow f's timer l: it pops at `deadline`, after every timer already set. */
export function timerSet(l: i32, f: i32, deadline: f64, running: bool): void {
  const tail = l == AG_TIMER ? agTail : delTail;
  store<f64>(flowPtr(f) + F_AG_AT + (<usize>l << 3), deadline);
  if (running && f == tail) return; // already last: a later deadline keeps the order
  if (running) timerStop(l, f);
  // f is not linked: its links are NONE (both still 0 in a record never linked since init, which
  // no linked record can have: flow 0 is not both of its neighbours) and no end of the list is f.
  if (!ASC_NO_ASSERT) assert(unlinked(l, f), 'timerSet: the flow is already linked');
  const last = l == AG_TIMER ? agTail : delTail;
  store<i32>(linkPrev(l, f), last);
  store<i32>(linkNext(l, f), NONE);
  if (last == NONE) setHead(l, f);
  else store<i32>(linkNext(l, last), f);
  setTail(l, f);
  if (!ASC_NO_ASSERT) assert(endsAgree(l), 'timerSet: list head and tail disagree');
}

export function timerStop(l: i32, f: i32): void {
  const p = load<i32>(linkPrev(l, f));
  const n = load<i32>(linkNext(l, f));
  // f is linked: each neighbour (or the list end) points back at it.
  if (!ASC_NO_ASSERT) assert(p == NONE ? headOf(l) == f : load<i32>(linkNext(l, p)) == f, 'timerStop: the flow is not linked (prev)');
  if (!ASC_NO_ASSERT) assert(n == NONE ? tailOf(l) == f : load<i32>(linkPrev(l, n)) == f, 'timerStop: the flow is not linked (next)');
  if (p == NONE) setHead(l, n);
  else store<i32>(linkNext(l, p), n);
  if (n == NONE) setTail(l, p);
  else store<i32>(linkPrev(l, n), p);
  store<i32>(linkPrev(l, f), NONE);
  store<i32>(linkNext(l, f), NONE);
  if (!ASC_NO_ASSERT) assert(endsAgree(l), 'timerStop: list head and tail disagree');
}

// For the debug build's assertions only (if (!ASC_NO_ASSERT): see pending.ts).
@inline function headOf(l: i32): i32 {
  return l == AG_TIMER ? agHead : delHead;
}

@inline function tailOf(l: i32): i32 {
  return l == AG_TIMER ? agTail : delTail;
}

@inline function endsAgree(l: i32): bool {
  return (headOf(l) == NONE) == (tailOf(l) == NONE);
}

@inline function unlinked(l: i32, f: i32): bool {
  const p = load<i32>(linkPrev(l, f));
  return p == load<i32>(linkNext(l, f)) && (p == NONE || p == 0) && headOf(l) != f && tailOf(l) != f;
}

@inline function setHead(l: i32, f: i32): void {
  if (l == AG_TIMER) agHead = f;
  else delHead = f;
}

@inline function setTail(l: i32, f: i32): void {
  if (l == AG_TIMER) agTail = f;
  else delTail = f;
}
