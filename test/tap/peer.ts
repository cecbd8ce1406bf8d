// The test's side of test/tap/peer.py: network namespaces, the helper process and its JSON-line
// protocol, and what the kernel says about the connection (/proc/net/snmp, ss -tin).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

export interface Ready {
  kernelPort: number;
  kernelIsn: number;
  peerIsn: number;
  kernelTsval: number;
  kernelMss: number;
  window: number;
  tapMac: string;
  peerMac: string;
  local: string;
  peer: string;
  peerPort: number;
}

export interface WriteResult {
  ok: boolean;
  errno?: number;
  error?: string;
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function inNs(ns: string, ...args: string[]): string {
  return ip('netns', 'exec', ns, ...args);
}

/** A fresh namespace with lo up and a receive buffer large enough for 64 KiB aggregates in flight. */
export function addNamespace(ns: string): void {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  inNs(ns, 'sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 4194304 16777216');
}

export function deleteNamespace(ns: string): void {
  try {
    ip('netns', 'del', ns);
  } catch {
    /* already gone */
  }
}

/** The Tcp: counters of /proc/net/snmp inside the namespace. */
export function tcpCounters(ns: string): Record<string, number> {
  const lines = inNs(ns, 'cat', '/proc/net/snmp')
    .split('\n')
    .filter((l) => l.startsWith('Tcp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

/** rcvmss of the namespace's one TCP connection to `port` (ss -tin). */
export function receiverMss(ns: string, port: number): number {
  const text = inNs(ns, 'ss', '-tin', `dport = :${port}`);
  const m = /rcvmss:(\d+)/.exec(text);
  if (!m) throw new Error(`no rcvmss in ss -tin:\n${text}`);
  return Number(m[1]);
}

export class Peer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly queued: string[] = [];
  private stderr = '';

  constructor(ns: string, args: string[]) {
    const script = new URL('./peer.py', import.meta.url).pathname;
    this.child = spawn('ip', ['netns', 'exec', ns, 'python3', script, ...args]);
    this.child.stderr.on('data', (d) => {
      this.stderr += String(d);
    });
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.queued.push(line);
    });
    this.child.on('exit', () => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: `peer.py exited: ${this.stderr}` }));
    });
  }

  private next(): Promise<any> {
    return new Promise((resolve, reject) => {
      const take = (line: string) => {
        const msg = JSON.parse(line);
        if (msg.error && !('ok' in msg)) reject(new Error(`peer.py: ${msg.error}`));
        else resolve(msg);
      };
      const line = this.queued.shift();
      if (line !== undefined) take(line);
      else this.waiting.push(take);
    });
  }

  ready(): Promise<Ready> {
    return this.next();
  }

  private ask(cmd: object): Promise<any> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return this.next();
  }

  /** Write virtio header + frame into the tap once the kernel's window covers it (wait: false: now). */
  write(vnet: Uint8Array, frame: Uint8Array, wait = true): Promise<WriteResult> {
    return this.ask({ op: 'write', vnet: Buffer.from(vnet).toString('hex'), frame: Buffer.from(frame).toString('hex'), wait });
  }

  /** Read the socket until `total` bytes arrived since the start (or the timeout); the bytes since the last call. */
  async recv(total: number, timeout = 10): Promise<{ received: number; data: Buffer }> {
    const r = await this.ask({ op: 'recv', bytes: total, timeout });
    return { received: r.received, data: Buffer.from(r.data, 'base64') };
  }

  state(): Promise<{ ack: number; window: number; tapFrames: number; written: number }> {
    return this.ask({ op: 'state' });
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.stdin.write(`${JSON.stringify({ op: 'close' })}\n`);
      await new Promise((resolve) => {
        const t = setTimeout(() => {
          this.child.kill();
          resolve(null);
        }, 3000);
        this.child.once('exit', () => {
          clearTimeout(t);
          resolve(null);
        });
      });
    }
    this.lines.close();
  }
}
