import { generate } from 'selfsigned';

/**
 * One self-signed EC certificate for 127.0.0.1, made when the sandbox starts and shared by every
 * simulated cluster: a kubeconfig trusts it through certificate-authority-data. EC P-256 takes a
 * few milliseconds where an RSA key per cluster would take hundreds.
 */
export interface ServingCertificate {
  cert: string;
  key: string;
}

export async function makeServingCertificate(): Promise<ServingCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'tricenter-sandbox' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
