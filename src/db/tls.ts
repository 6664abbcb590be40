// What a postgres:// URL asks of TLS, read the way node-postgres (pg-connection-string 2.x) reads
// it: sslmode=verify-full with sslrootcert=<CA file> verifies the server's certificate and name.
// Without uselibpqcompat=true, pg treats prefer, require and verify-ca as verify-full too (and
// warns); with it they mean what libpq means (no name check). no-verify and disable do not verify.

/** The URL's TLS request. */
export interface UrlTls {
  /** sslmode as written (undefined: not given). */
  sslmode: string | undefined;
  /** The CA file (sslrootcert), when given. */
  rootCert: string | undefined;
  /** The connection is encrypted. */
  encrypted: boolean;
  /** The server's certificate chain and host name are checked. */
  verifiesServer: boolean;
}

/** Reads sslmode, ssl, sslrootcert and uselibpqcompat from a URL's query string. */
export function urlTls(url: string): UrlTls {
  let params: URLSearchParams;
  try {
    params = new URL(url.replace(/^(postgres(?:ql)?:\/\/[^/?]*?),[^/?]*/, '$1')).searchParams;
  } catch {
    return { sslmode: undefined, rootCert: undefined, encrypted: false, verifiesServer: false };
  }
  const sslmode = params.get('sslmode') ?? undefined;
  const rootCert = params.get('sslrootcert') ?? undefined;
  const libpq = params.get('uselibpqcompat') === 'true';
  const ssl = params.get('ssl');
  if (sslmode === undefined) {
    const on = ssl === 'true' || ssl === '1' || rootCert !== undefined;
    return { sslmode, rootCert, encrypted: on, verifiesServer: on };
  }
  const encrypted = sslmode !== 'disable';
  const verifiesServer = libpq ? sslmode === 'verify-full' : ['prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode);
  return { sslmode, rootCert, encrypted, verifiesServer };
}
