// The libpq multi-host URL (postgres://h1:5432,h2:5432/db) and PATRONI_URLS, parsed into the
// nodes of a cluster and one single-host URL per node (node-postgres takes one host per URL).

/** One PostgreSQL server of a cluster. */
export interface Endpoint {
  host: string;
  port: number;
}

/** The nodes a URL names, and how to reach each with the URL's user, password, database and options. */
export interface HostList {
  endpoints: readonly Endpoint[];
  /** The URL with its host list replaced by one node. */
  urlFor(e: Endpoint): string;
}

const URL_RE = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/s;
const HOST_RE = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/;
// libpq's read-write choice is what the topology does; node-postgres would only pass it on as an unknown option.
const LIBPQ_ONLY = /^(target_session_attrs|load_balance_hosts)$/;

/** "host:port" (IPv6 in brackets), for messages and metric-free labels. */
export function endpointText(e: Endpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

/** Parses url's host list; throws TypeError naming what is wrong. Default port 5432 (or `?port=`). */
export function parseHostList(url: string): HostList {
  const m = URL_RE.exec(url);
  if (!m) throw new TypeError('must start with postgres:// or postgresql:// (postgres://user:password@host:5432/dbname)');
  const [, scheme, auth, hosts, rest] = m as unknown as [string, string, string | undefined, string, string];
  const [pathPart, query = ''] = splitOnce(rest, '?');
  const params = query === '' ? [] : query.split('&').filter((kv) => kv !== '');
  const portParam = params.map((kv) => splitOnce(kv, '=')).find(([k]) => k === 'port')?.[1];
  const defaultPort = portParam === undefined ? 5432 : toPort(portParam);
  const endpoints = hosts.split(',').map((h) => {
    const hm = HOST_RE.exec(decodeURIComponent(h.trim()));
    if (!hm) throw new TypeError(`bad host ${JSON.stringify(h)} (expected host or host:port)`);
    return { host: hm[1]!.replace(/^\[|\]$/g, ''), port: hm[2] === undefined ? defaultPort : toPort(hm[2]) };
  });
  if (endpoints.length === 0 || endpoints.some((e) => e.host === '')) throw new TypeError('must name at least one host');
  const kept = params.filter((kv) => !LIBPQ_ONLY.test(splitOnce(kv, '=')[0]) && splitOnce(kv, '=')[0] !== 'port');
  const tail = `${pathPart}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
  const prefix = `${scheme}${auth === undefined ? '' : `${auth}@`}`;
  return { endpoints, urlFor: (e) => `${prefix}${endpointText(e)}${tail}` };
}

/** True when url names more than one host (a cluster whose primary must be found). */
export function isMultiHost(url: string): boolean {
  try {
    return parseHostList(url).endpoints.length > 1;
  } catch {
    return false;
  }
}

/** PATRONI_URLS ("http://h1:8008,http://h2:8008") as a list without trailing slashes; throws TypeError on a bad entry. */
export function parsePatroniUrls(text: string): string[] {
  return text
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .map((u) => {
      if (!/^https?:\/\//.test(u) || !URL.canParse(u)) throw new TypeError(`bad Patroni REST URL ${JSON.stringify(u)} (expected http://host:8008)`);
      return u.replace(/\/+$/, '');
    });
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function toPort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TypeError(`bad port ${JSON.stringify(s)}`);
  return n;
}
