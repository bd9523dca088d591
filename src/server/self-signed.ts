/** A throwaway certificate for local TLS testing (`serve --tls-self-signed`). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface SelfSigned {
  cert: string;
  key: string;
  /** The certificate written to a file, for clients' `--ca`. */
  caFile: string;
}

/** Makes a certificate for localhost, 127.0.0.1 and `host`, valid for a week. */
export async function selfSignedCertificate(host: string): Promise<SelfSigned> {
  const names = new Set(['localhost', host].filter((h) => !/^[\d.:]+$/.test(h)));
  const ips = new Set(
    ['127.0.0.1', '::1', host].filter((h) => /^[\d.:]+$/.test(h) && h !== '0.0.0.0' && h !== '::'),
  );
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    notAfterDate: new Date(Date.now() + 7 * 86_400_000),
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...[...names].map((value) => ({ type: 2 as const, value })),
          ...[...ips].map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'shiftctl-tls-'));
  const caFile = join(dir, 'cert.pem');
  writeFileSync(caFile, pems.cert);
  return { cert: pems.cert, key: pems.private, caFile };
}
