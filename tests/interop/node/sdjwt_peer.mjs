// Interop peer for Regie's tests: @sd-jwt/sd-jwt-vc issues, presents and verifies SD-JWT VC.
//
// stdin:  {"requests": [request, ...]}      stdout: {"results": [result, ...]}
//
// request {"op": "verify", "token", "issuerJwk", "now", "nonce"?, "audience"?,
//          "requiredClaimKeys"?, "statusLists"?: {uri: status list token}}
//   -> {"ok": true, "payload", "header", "kb": {"header", "payload"} | null}
//      or {"ok": false, "code", "message"}
//   With "nonce" the library requires and checks a KB-JWT (signature with cnf.jwk,
//   nonce, sd_hash); it does not check "aud", so this peer does, as a careful
//   verifier must. Status lists come from "statusLists", never from the network.
// request {"op": "issue", "alg", "holderAlg", "claims", "disclosureFrame",
//          "presentationFrame", "kb": {"iat", "aud", "nonce"}, "now"}
//   -> {"ok": true, "credential", "presentation", "issuerJwk", "holderJwk", "kid", "claims"}
//   Fresh issuer and holder key pairs; cnf.jwk is the holder's public JWK as the
//   library exports it, the header kid is jose's RFC 7638 thumbprint, and
//   "claims" is what this library's own verifier reads from the presentation.
//
// Keys: ES256 through @sd-jwt/crypto-nodejs, EdDSA through node:crypto.
// Every request is answered, in order; a failure is a result, never an exit code.
import * as crypto from 'node:crypto';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import * as jose from 'jose';
import { serve } from './peer_io.mjs';

const ALGS_FOR = { 'EC/P-256': ['ES256'], 'OKP/Ed25519': ['EdDSA', 'Ed25519'] };

function headerAlg(signingInput) {
  const header = JSON.parse(Buffer.from(signingInput.split('.')[0], 'base64url').toString());
  return header.alg;
}

// A verifier for one public JWK that also refuses a header alg foreign to the key type.
async function verifierFor(jwk) {
  const algs = ALGS_FOR[`${jwk?.kty}/${jwk?.crv}`];
  if (algs === undefined) throw new Error(`unsupported key ${jwk?.kty}/${jwk?.crv}`);
  let check;
  if (jwk.kty === 'EC') {
    check = await ES256.getVerifier(jwk);
  } else {
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    check = async (data, signature) =>
      crypto.verify(null, Buffer.from(data), key, Buffer.from(signature, 'base64url'));
  }
  return async (data, signature) => algs.includes(headerAlg(data)) && check(data, signature);
}

// The KB-JWT is checked with the holder key the verified credential names in cnf.jwk.
async function kbVerifier(data, signature, payload) {
  const verify = await verifierFor(payload?.cnf?.jwk);
  return verify(data, signature);
}

async function keyPair(alg) {
  if (alg === 'ES256') {
    const { publicKey, privateKey } = await ES256.generateKeyPair();
    return { publicJwk: publicKey, signer: await ES256.getSigner(privateKey) };
  }
  if (alg === 'EdDSA') {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const signer = async (data) =>
      crypto.sign(null, Buffer.from(data), privateKey).toString('base64url');
    return { publicJwk: publicKey.export({ format: 'jwk' }), signer };
  }
  throw new Error(`unsupported alg ${alg}`);
}

async function verify(req) {
  const statusListFetcher = async (uri) => {
    const token = req.statusLists?.[uri];
    if (token === undefined) throw new Error(`no status list for ${uri}`);
    return token;
  };
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    verifier: await verifierFor(req.issuerJwk),
    kbVerifier,
    statusListFetcher,
  });
  const options = { currentDate: req.now };
  if (req.requiredClaimKeys !== undefined) options.requiredClaimKeys = req.requiredClaimKeys;
  if (req.nonce !== undefined) options.keyBindingNonce = req.nonce;
  const { payload, header, kb } = await sdjwt.verify(req.token, options);
  if (req.audience !== undefined && kb?.payload?.aud !== req.audience) {
    throw Object.assign(new Error(`KB-JWT aud ${kb?.payload?.aud} is not ${req.audience}`), {
      code: 'PEER_AUDIENCE_MISMATCH',
    });
  }
  return { payload, header, kb: kb ? { header: kb.header, payload: kb.payload } : null };
}

async function issue(req) {
  const issuer = await keyPair(req.alg);
  const holder = await keyPair(req.holderAlg);
  const kid = await jose.calculateJwkThumbprint(issuer.publicJwk, 'sha256');
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    saltGenerator: generateSalt,
    signer: issuer.signer,
    signAlg: req.alg,
    verifier: await verifierFor(issuer.publicJwk),
    kbSigner: holder.signer,
    kbSignAlg: req.holderAlg,
    kbVerifier,
  });
  const claims = { ...req.claims, cnf: { jwk: holder.publicJwk } };
  const credential = await sdjwt.issue(claims, req.disclosureFrame, { header: { kid } });
  const presentation = await sdjwt.present(credential, req.presentationFrame, {
    kb: { payload: req.kb },
  });
  const own = await sdjwt.verify(presentation, {
    currentDate: req.now,
    keyBindingNonce: req.kb.nonce,
  });
  return {
    credential,
    presentation,
    issuerJwk: issuer.publicJwk,
    holderJwk: holder.publicJwk,
    kid,
    claims: own.payload,
  };
}

const OPS = { verify, issue };

await serve(OPS);
