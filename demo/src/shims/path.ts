// The node:path calls of the capture layer (output.ts), for paths without directories.
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i);
}

export function resolve(...parts: string[]): string {
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function join(...parts: string[]): string {
  return resolve(...parts);
}
