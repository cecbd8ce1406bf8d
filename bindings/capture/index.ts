// Capture I/O: streaming pcap / pcapng reader and a same-format writer. See reader.ts
// (ownership of records, skipBad) and writer.ts (what is copied, temp file and commit).

export { CaptureError, FileError, type CaptureErrorCode } from './errors.js';
export { detectFormat } from './detect.js';
export { CaptureReader, openCapture, openCaptureAsync, readCapture, probeCapture } from './reader.js';
export { NEED_INPUT } from './chunk.js';
export { CaptureWriter, createCaptureWriter, MIN_OUTPUT_SNAPLEN, type WriterOptions } from './writer.js';
export type { ConversionReport } from './convert.js';
export { blankRecord, copyRecord, EMPTY } from './record.js';
export {
  KIND_EPB,
  KIND_PB,
  KIND_PCAP,
  KIND_SPB,
  type ByteOrder,
  type CaptureFormat,
  type CaptureInfo,
  type CaptureRecord,
  type HeaderEvent,
  type HeaderSink,
  type InterfaceInfo,
  type ReadOptions,
  type RecordKind,
} from './types.js';
