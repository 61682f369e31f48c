// Interop peer for Regie's wallet-host formats, on the node `jose` library:
// the sealed data release (JWE ECDH-ES + X25519, A256GCM) and DPoP proofs (RFC 9449).
//
// stdin:  {"requests": [request, ...]}      stdout: {"results": [result, ...]}
//
// request {"op": "jwe_decrypt", "jwe", "jwk"}            jwk: the recipient's private X25519 JWK
//   -> {"ok": true, "plaintext", "protectedHeader"}
// request {"op": "jwe_encrypt", "jwk", "plaintext", "header"}   jwk: the recipient's public JWK;
//   header: extra protected members (kid, typ, cty); alg ECDH-ES and enc A256GCM are fixed
//   -> {"ok": true, "jwe"}
// request {"op": "dpop_verify", "proof", "now"}   the key is the header's jwk (EmbeddedJWK)
//   -> {"ok": true, "payload", "protectedHeader", "jkt"}
// request {"op": "dpop_sign", "alg", "claims"}    a fresh key pair; header {typ, alg, jwk}
//   -> {"ok": true, "proof", "jwk", "jkt"}
//
// Every request is answered, in order; a failure is a result, never an exit code.
import * as jose from 'jose';
import { serve } from './peer_io.mjs';

const JWE_OPTIONS = {
  keyManagementAlgorithms: ['ECDH-ES'],
  contentEncryptionAlgorithms: ['A256GCM'],
};

async function jwe_decrypt(req) {
  const key = await jose.importJWK(req.jwk, 'ECDH-ES');
  const { plaintext, protectedHeader } = await jose.compactDecrypt(req.jwe, key, JWE_OPTIONS);
  return { plaintext: new TextDecoder().decode(plaintext), protectedHeader };
}

async function jwe_encrypt(req) {
  const key = await jose.importJWK(req.jwk, 'ECDH-ES');
  const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(req.plaintext))
    .setProtectedHeader({ ...req.header, alg: 'ECDH-ES', enc: 'A256GCM' })
    .encrypt(key);
  return { jwe };
}

async function dpop_verify(req) {
  const { payload, protectedHeader } = await jose.jwtVerify(req.proof, jose.EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['EdDSA', 'ES256'],
    currentDate: new Date(req.now * 1000),
    maxTokenAge: 60,
  });
  const jkt = await jose.calculateJwkThumbprint(protectedHeader.jwk, 'sha256');
  return { payload, protectedHeader, jkt };
}

async function dpop_sign(req) {
  const { publicKey, privateKey } = await jose.generateKeyPair(req.alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const proof = await new jose.SignJWT(req.claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: req.alg, jwk })
    .sign(privateKey);
  const jkt = await jose.calculateJwkThumbprint(jwk, 'sha256');
  return { proof, jwk, jkt };
}

await serve({ jwe_decrypt, jwe_encrypt, dpop_verify, dpop_sign });
