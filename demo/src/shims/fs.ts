// The few node:fs calls of the CLI's capture layer (bindings/capture/: reader, chunk, detect,
// output), over files held in memory. The demo's build (demo/build.mjs) aliases node:fs to this
// module for the worker, so the page runs `lro coalesce`'s own job (bindings/pipeline/coalesce.ts)
// and `lro generate`'s writer unchanged: the same reader, engines, ordering and writer as the
// CLI, hence the same output bytes. Files live in one Map; errors carry Node's `code`.

interface Open {
  path: string;
  /** Read: the file's bytes. Write: what was written so far. */
  data: Uint8Array;
  used: number;
  writing: boolean;
}

const files = new Map<string, Uint8Array>();
const opened = new Map<number, Open>();
let nextFd = 3;

function fsError(code: string, text: string, call: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${text}, ${call} '${path}'`), { code, syscall: call, path });
}

function handle(fd: number): Open {
  const f = opened.get(fd);
  if (!f) throw Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF' });
  return f;
}

/** Put a file (the bytes are used as they are, not copied). */
export function putFile(path: string, bytes: Uint8Array): void {
  files.set(path, bytes);
}

/** A file's bytes, or undefined. */
export function getFile(path: string): Uint8Array | undefined {
  return files.get(path);
}

/** Forget a file (no error when absent). */
export function dropFile(path: string): void {
  files.delete(path);
}

export function openSync(path: string, flags = 'r'): number {
  let f: Open;
  if (flags === 'r') {
    const data = files.get(path);
    if (!data) throw fsError('ENOENT', 'no such file or directory', 'open', path);
    f = { path, data, used: data.length, writing: false };
  } else if (flags === 'w' || flags === 'wx') {
    if (flags === 'wx' && files.has(path)) throw fsError('EEXIST', 'file already exists', 'open', path);
    f = { path, data: new Uint8Array(1 << 20), used: 0, writing: true };
    files.set(path, f.data.subarray(0, 0));
  } else {
    throw new Error(`node:fs shim: flags '${flags}' not supported`);
  }
  const fd = nextFd++;
  opened.set(fd, f);
  return fd;
}

/** Asynchronous open (the reader opens its input so; files here are always there at once). */
export function open(path: string, flags: string, callback: (err: Error | null, fd: number) => void): void {
  try {
    const fd = openSync(path, flags);
    queueMicrotask(() => callback(null, fd));
  } catch (err) {
    queueMicrotask(() => callback(err as Error, -1));
  }
}

/** Asynchronous read (a pipe's; files here are plain files, read with readSync): done at once. */
export function read(
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number | null,
  callback: (err: Error | null, bytesRead: number) => void,
): void {
  try {
    const n = readSync(fd, buffer, offset, length, position);
    queueMicrotask(() => callback(null, n));
  } catch (err) {
    queueMicrotask(() => callback(err as Error, 0));
  }
}

/** The open flags output.ts names (a FIFO's non-blocking open, never reached here: no FIFOs). */
export const constants = { O_WRONLY: 1, O_NONBLOCK: 2048 };

export function fstatSync(fd: number): { size: number; isDirectory(): boolean; isFile(): boolean } {
  const f = handle(fd);
  return { size: f.used, isDirectory: () => false, isFile: () => true };
}

export function readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
  const f = handle(fd);
  const from = position ?? 0;
  const n = Math.max(0, Math.min(length, f.used - from));
  buffer.set(f.data.subarray(from, from + n), offset);
  return n;
}

export function writeSync(
  fd: number,
  buffer: Uint8Array,
  offset = 0,
  length = buffer.length - offset,
  position: number | null = null,
): number {
  const f = handle(fd);
  if (position !== null && position !== f.used) return writeAt(fd, buffer, offset, length, position);
  if (!f.writing) throw Object.assign(new Error('EBADF: bad file descriptor, write'), { code: 'EBADF' });
  if (f.used + length > f.data.length) {
    const bigger = new Uint8Array(Math.max(f.used + length, f.data.length * 2));
    bigger.set(f.data.subarray(0, f.used));
    f.data = bigger;
  }
  f.data.set(buffer.subarray(offset, offset + length), f.used);
  f.used += length;
  files.set(f.path, f.data.subarray(0, f.used));
  return length;
}

export function closeSync(fd: number): void {
  handle(fd);
  opened.delete(fd);
}

export function renameSync(from: string, to: string): void {
  const data = files.get(from);
  if (!data) throw fsError('ENOENT', 'no such file or directory', 'rename', from);
  files.delete(from);
  files.set(to, data);
}

export function unlinkSync(path: string): void {
  if (!files.delete(path)) throw fsError('ENOENT', 'no such file or directory', 'unlink', path);
}

/** Files here are plain files: no symlinks, devices or FIFOs (output.ts asks before replacing one). */
function fileStat(path: string, call: string) {
  const data = files.get(path);
  if (!data) throw fsError('ENOENT', 'no such file or directory', call, path);
  return {
    size: data.length,
    mode: 0o644,
    isFile: () => true,
    isDirectory: () => false,
    isSymbolicLink: () => false,
    isFIFO: () => false,
  };
}

export function statSync(path: string) {
  return fileStat(path, 'stat');
}

export function lstatSync(path: string) {
  return fileStat(path, 'lstat');
}

export function realpathSync(path: string): string {
  fileStat(path, 'realpath');
  return path;
}

export function readlinkSync(path: string): string {
  throw fsError('EINVAL', 'invalid argument', 'readlink', path);
}

export function fchmodSync(fd: number): void {
  handle(fd);
}

/** Asynchronous write (the output's background writes): done at once, at `position`, then the callback. */
export function write(
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number | null,
  callback: (err: Error | null, written: number) => void,
): void {
  try {
    const n = writeAt(fd, buffer, offset, length, position);
    queueMicrotask(() => callback(null, n));
  } catch (err) {
    queueMicrotask(() => callback(err as Error, 0));
  }
}

/** writeSync at an explicit file offset (position), or at the end (null). */
function writeAt(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
  const f = handle(fd);
  if (position === null || position === f.used) return writeSync(fd, buffer, offset, length);
  if (!f.writing) throw Object.assign(new Error('EBADF: bad file descriptor, write'), { code: 'EBADF' });
  const end = position + length;
  if (end > f.data.length) {
    const bigger = new Uint8Array(Math.max(end, f.data.length * 2));
    bigger.set(f.data.subarray(0, f.used));
    f.data = bigger;
  }
  f.data.set(buffer.subarray(offset, offset + length), position);
  f.used = Math.max(f.used, end);
  files.set(f.path, f.data.subarray(0, f.used));
  return length;
}
