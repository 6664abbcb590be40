// The kernel's TCP counters that show connections waiting before a server accepts them: the listen
// (accept) queue overflowing and SYNs retried (a dropped SYN is retried after 1 s, then 3 s, 7 s —
// the multi-second tails of a load generator that opens connections faster than they are accepted).
import { readFileSync } from 'node:fs';

/** Machine-wide counts since boot (every process's sockets, not only a benchmark's). */
export interface TcpCounters {
  /** A completed connection found the listen queue full (TcpExtListenOverflows). */
  listenOverflows: number;
  /** SYNs retransmitted by connecting sockets (TcpExtTCPSynRetrans). */
  synRetransmits: number;
}

/** Reads the counters from /proc/net/netstat (NaN where it cannot: not Linux). */
export function readTcpCounters(path = '/proc/net/netstat'): TcpCounters {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { listenOverflows: Number.NaN, synRetransmits: Number.NaN };
  }
  return parseTcpCounters(text);
}

/** The counters from the text of /proc/net/netstat: pairs of lines, names then values, per prefix. */
export function parseTcpCounters(text: string): TcpCounters {
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/).slice(1) ?? [];
  const values = lines[1]?.split(/\s+/).slice(1).map(Number) ?? [];
  const get = (name: string): number => {
    const i = names.indexOf(name);
    return i < 0 || values[i] === undefined ? Number.NaN : values[i]!;
  };
  return { listenOverflows: get('ListenOverflows'), synRetransmits: get('TCPSynRetrans') };
}

/** What changed between two readings. */
export function tcpDelta(before: TcpCounters, after: TcpCounters): TcpCounters {
  return { listenOverflows: after.listenOverflows - before.listenOverflows, synRetransmits: after.synRetransmits - before.synRetransmits };
}
