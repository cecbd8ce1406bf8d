// The two node:path calls of the capture layer (output.ts), for paths without directories.
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i);
}

export function resolve(...parts: string[]): string {
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}
