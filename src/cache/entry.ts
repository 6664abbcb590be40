// A cache entry and its wire form: JSON, deflated when its measured size makes that worth it.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** One cached answer with what decides whether it may be served. */
export interface Entry<T = unknown> {
  v: T;
  /** Lower bound of the WAL position the value was read at ('' when unknown: older than any token). */
  lsn: string;
  /** Tags of what the value read. */
  tags: string[];
  /** Served as fresh until (epoch ms); then stale until `stale`, revalidated in the background. */
  fresh: number;
  stale: number;
}

/** Entries this size or larger (JSON bytes) are stored deflated: below it, compression costs more than it saves. */
export const COMPRESS_MIN_BYTES = 1024;

const RAW = 0x00;
const DEFLATED = 0x01;

/** The entry as bytes: a one-byte flag (raw or deflated) and the JSON. */
export function encodeEntry(e: Entry): Buffer {
  const json = Buffer.from(JSON.stringify(e), 'utf8');
  if (json.length < COMPRESS_MIN_BYTES) return Buffer.concat([Buffer.of(RAW), json]);
  const packed = deflateRawSync(json, { level: 1 });
  // Measured, not assumed: keep the raw form when deflate does not make it smaller.
  return packed.length < json.length ? Buffer.concat([Buffer.of(DEFLATED), packed]) : Buffer.concat([Buffer.of(RAW), json]);
}

/** Reads encodeEntry's bytes back; undefined for anything else (an old format, a foreign key). */
export function decodeEntry<T>(buf: Buffer): Entry<T> | undefined {
  try {
    const body = buf[0] === DEFLATED ? inflateRawSync(buf.subarray(1)) : buf[0] === RAW ? buf.subarray(1) : undefined;
    if (!body) return undefined;
    const e = JSON.parse(body.toString('utf8')) as Entry<T>;
    return typeof e === 'object' && e !== null && Array.isArray(e.tags) && typeof e.fresh === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}
