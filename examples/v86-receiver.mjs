// v86 (browser x86 VM): coalesce the frames you hand the guest's NIC.
//
// Imports `large-receive` as a user would: from a project that installed it, or from a clone after
// `npm install && npm run build` (package.json "exports" lets the package import itself by name).
// Run from a clone: `node examples/v86-receiver.mjs` (a stub bus stands in for the emulator).
//
// v86 takes a frame for the guest through `emulator.bus.send('net0-receive', frame)` and copies it
// during the call (virtio-net into a new array behind a 12-byte header with no GSO and no checksum
// flag; ne2k into its ring), so the engine's sink can hand over its zero-copy view as it is. The
// NIC does no GSO, so no frame may exceed the guest's MTU + 14: ne2k is fixed at 1500 (maxFrame
// 1514); virtio-net takes `new V86({ net_device: { type: 'virtio', mtu: 9000 } })` (advertised to
// the guest with VIRTIO_NET_F_MTU), then maxFrame 9014. The guest verifies every checksum, so keep
// fixChecksums on (the default). A virtio-net guest with no receive buffer posted drops the frame
// ("No buffer to write into!"): fewer, larger frames make that rarer.
import { createEngine } from 'large-receive';

/**
 * Where your network code would call `bus.send('net0-receive', frame)`, call `receive(frame)`.
 * Frames are coalesced and sent on as they are made; whatever is pending goes out once the turn
 * of the event loop that brought frames is over ("flush when idle": one setTimeout per burst).
 */
export async function createV86Receiver(bus, { mtu = 1500, clockUs = () => performance.now() * 1000, ...options } = {}) {
  const engine = await createEngine({ ...options, maxFrame: mtu + 14 });
  engine.setSink((frame) => bus.send('net0-receive', frame)); // v86 copies it during the call
  let flushQueued = false;
  const flushWhenIdle = () => {
    flushQueued = false;
    engine.flush();
  };
  return {
    receive(frame) {
      engine.push(frame, clockUs());
      if (!flushQueued) {
        flushQueued = true;
        setTimeout(flushWhenIdle, 0);
      }
    },
    /** Send what is pending and stop. */
    close() {
      engine.close();
    },
    stats: () => engine.stats(),
  };
}

/** A stand-in for `emulator.bus`: records a copy of each frame the guest would get, as v86 does. */
export function stubBus() {
  const received = [];
  return {
    received,
    send(name, frame) {
      if (name === 'net0-receive') received.push(frame.slice());
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Eight TCP segments of 180 bytes, one flow, as a relay hands them over in one burst.
  const { tcpFrame } = await import('./frames.mjs');
  const bus = stubBus();
  const rx = await createV86Receiver(bus, { mtu: 1500 });
  for (let i = 0; i < 8; i++) rx.receive(tcpFrame(i * 180, 180));
  await new Promise((resolve) => setTimeout(resolve, 5));
  console.log(`8 frames in, ${bus.received.length} to the guest: ${bus.received.map((f) => f.length).join(', ')} bytes`);
}
