// Certificate thumbprints in the browser, as `scaleout cert thumbprint`
// prints them: the SHA-256 (and SSIS's SHA-1) digest of the certificate's
// DER bytes, upper-case hex. The private key never comes near the page:
// only the certificate file is read, locally.

// The DER bytes of the first certificate in PEM text. Throws an Error
// saying what to pick instead when there is none.
export function pemToDer(text) {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(String(text));
  if (!match) {
    throw new Error('the file holds no PEM certificate (no BEGIN CERTIFICATE line); pick the '
      + "worker's .crt file, not its key");
  }
  let binary;
  try {
    binary = atob(match[1].replace(/\s+/g, ''));
  } catch {
    throw new Error('the certificate in the file is not valid base64; is the file complete?');
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
}

// {sha256, sha1} of the certificate in `pemText`. `subtle` is WebCrypto's,
// which browsers offer on https pages only.
export async function thumbprints(pemText, subtle = globalThis.crypto?.subtle) {
  if (!subtle) throw new Error('this browser offers no WebCrypto here; paste the thumbprint instead');
  const der = pemToDer(pemText);
  return {
    sha256: hex(await subtle.digest('SHA-256', der)),
    sha1: hex(await subtle.digest('SHA-1', der)),
  };
}
