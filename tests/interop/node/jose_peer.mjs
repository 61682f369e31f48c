// Interop peer for Regie's tests: the node `jose` library signs and verifies compact JWS.
//
// stdin:  {"requests": [request, ...]}      stdout: {"results": [result, ...]}
//
// request {"op": "verify", "token", "jwk", "importAlg"?, "algorithms", "typ"?, "audience"?, "now"}
//   -> {"ok": true, "payload", "protectedHeader"} or {"ok": false, "code", "message"}
// request {"op": "sign", "alg", "typ", "claims", "kid": bool}
//   -> {"ok": true, "token", "jwk", "kid"} with a fresh key pair; jwk is the public key
//
// Every request is answered, in order; a failure is a result, never an exit code.
import * as jose from 'jose';
import { serve } from './peer_io.mjs';

async function verify(req) {
  const key = await jose.importJWK(req.jwk, req.importAlg ?? req.jwk.alg);
  const options = { algorithms: req.algorithms, currentDate: new Date(req.now * 1000) };
  if (req.typ !== undefined) options.typ = req.typ;
  if (req.audience !== undefined) options.audience = req.audience;
  const { payload, protectedHeader } = await jose.jwtVerify(req.token, key, options);
  return { payload, protectedHeader };
}

async function sign(req) {
  const { publicKey, privateKey } = await jose.generateKeyPair(req.alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const header = { alg: req.alg, typ: req.typ };
  if (req.kid) header.kid = await jose.calculateJwkThumbprint(jwk, 'sha256');
  const token = await new jose.SignJWT(req.claims).setProtectedHeader(header).sign(privateKey);
  return { token, jwk, kid: header.kid ?? null };
}

const OPS = { verify, sign };

await serve(OPS);
