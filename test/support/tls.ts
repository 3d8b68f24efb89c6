/**
 * TLS fixtures for the security tests: a throwaway CA and certificates (openssl), and a TLS/mTLS
 * terminating gRPC proxy in front of a plaintext Temporal dev server (the dev server itself has
 * no TLS options), which can also demand an API key, the way Temporal Cloud does.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface CertFiles {
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA: verification against it must fail. */
  otherCa: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for `serverNames` (DNS names and IPs) and a client certificate, P-256. */
export function makeCertificates(dir: string, serverNames: string[]): CertFiles {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=migration-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'other-ca.key',
      '-out',
      'other-ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=some-other-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const san = serverNames.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const issue = (name: string, subject: string, ext: string) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  };
  issue(
    'server',
    `/CN=${serverNames[0]}`,
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  issue('client', '/CN=migration-worker', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const f = (name: string) => path.join(dir, name);
  return {
    ca: f('ca.pem'),
    caKey: f('ca.key'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    otherCa: f('other-ca.pem'),
  };
}

export interface TlsProxyOptions {
  /** host:port of the plaintext Temporal frontend. */
  target: string;
  certs: CertFiles;
  /** Refuse clients without a certificate signed by the CA (mTLS). */
  requireClientCert: boolean;
  /** Refuse calls without `authorization: Bearer <apiKey>` (gRPC UNAUTHENTICATED). */
  apiKey?: string;
}

/** What the proxy saw: the client certificates' subjects and the authorization headers. */
export interface TlsProxy {
  port: number;
  clientSubjects: Set<string>;
  authorizations: Set<string>;
  refusedCalls: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([':scheme', ':authority', 'connection', 'keep-alive', 'http2-settings', 'upgrade', 'host']);

export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const { certs } = options;
  const upstream = http2.connect(`http://${options.target}`);
  upstream.on('error', () => undefined);
  const sessions = new Set<http2.ServerHttp2Session>();
  const proxy: TlsProxy = { port: 0, clientSubjects: new Set(), authorizations: new Set(), refusedCalls: 0, close: async () => undefined };
  const server = http2.createSecureServer({
    key: fs.readFileSync(certs.serverKey),
    cert: fs.readFileSync(certs.serverCert),
    ca: fs.readFileSync(certs.ca),
    requestCert: true,
    rejectUnauthorized: options.requireClientCert,
    ALPNProtocols: ['h2'],
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    const peer = (session.socket as TLSSocket).getPeerCertificate?.();
    const cn = peer?.subject?.CN;
    if (cn) proxy.clientSubjects.add(String(cn));
  });
  server.on('stream', (stream, headers) => {
    const auth = headers.authorization;
    if (typeof auth === 'string') proxy.authorizations.add(auth);
    if (options.apiKey !== undefined && auth !== `Bearer ${options.apiKey}`) {
      proxy.refusedCalls++;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'missing or wrong API key' },
        { endStream: true },
      );
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) forwarded[k] = v;
    const req = upstream.request(forwarded);
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
      if (h['grpc-status'] !== undefined)
        stream.respond(out, { endStream: true }); // trailers-only response
      else stream.respond(out, { waitForTrailers: true });
    });
    req.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(trailers)) if (v !== undefined && !k.startsWith(':')) out[k] = v;
      stream.sendTrailers(out);
    });
    req.on('data', (d) => !stream.destroyed && stream.write(d));
    req.on('end', () => (!stream.destroyed && !stream.headersSent ? stream.close() : !stream.destroyed && stream.end()));
    req.on('error', () => !stream.destroyed && stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('data', (d) => req.write(d));
    stream.on('end', () => req.end());
    stream.on('close', () => !req.destroyed && req.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  proxy.close = async () => {
    for (const s of sessions) s.destroy();
    upstream.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
