"""XChaCha20-Poly1305 (IETF), libsodium's AEAD with 24-byte nonces: the one cipher of the vault.

This is the sharp layer under :mod:`._seal` and :mod:`._keys`. It calls libsodium's
``crypto_aead_xchacha20poly1305_ietf_encrypt``/``_decrypt`` through PyNaCl's public
``nacl.bindings`` (its private compiled module would save a few microseconds a call,
but a private API can change under us). Tests check this wrapper against all 315
Wycheproof XChaCha20-Poly1305 vectors and against ``nacl.secret.Aead``.

Every decryption failure raises one :class:`KeyRefused` (code ``key_invalid``) with
the message the caller chose, so a wrong key and damaged data look the same (T25).
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions

from regie_protocol.errors import Code, KeyRefused, Misuse

KEY_BYTES = 32
NONCE_BYTES = 24
TAG_BYTES = 16
#: libsodium's limit is far larger; no vault record comes near this
MAX_MESSAGE_BYTES = 1 << 32

_ENCRYPT = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt
_DECRYPT = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt


def _check_key_and_nonce(key: bytes, nonce: bytes, aad: bytes) -> None:
    if type(key) is not bytes or len(key) != KEY_BYTES:
        raise Misuse(f"an XChaCha20-Poly1305 key is {KEY_BYTES} bytes")
    if type(nonce) is not bytes or len(nonce) != NONCE_BYTES:
        raise Misuse(f"an XChaCha20-Poly1305 nonce is {NONCE_BYTES} bytes")
    if type(aad) is not bytes:
        raise Misuse("associated data must be bytes")


def encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Ciphertext followed by the 16-byte tag. Never call twice with one (key, nonce)."""
    _check_key_and_nonce(key, nonce, aad)
    if type(plaintext) is not bytes or len(plaintext) > MAX_MESSAGE_BYTES:
        raise Misuse(f"the plaintext must be bytes, at most {MAX_MESSAGE_BYTES}")
    ciphertext: bytes = _ENCRYPT(plaintext, aad, nonce, key)
    return ciphertext


def decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes, *, refusal: str) -> bytes:
    """The plaintext, or :class:`KeyRefused` with ``refusal`` (wrong key or damaged data alike).

    A nonce of the wrong length or a ciphertext shorter than the tag comes from stored
    data, so it is refused like any other damage rather than treated as a caller bug.
    """
    if type(key) is not bytes or len(key) != KEY_BYTES:
        raise Misuse(f"an XChaCha20-Poly1305 key is {KEY_BYTES} bytes")
    if type(aad) is not bytes or type(nonce) is not bytes or type(sealed) is not bytes:
        raise Misuse("nonce, ciphertext and associated data must be bytes")
    if len(nonce) != NONCE_BYTES or not TAG_BYTES <= len(sealed) <= MAX_MESSAGE_BYTES:
        raise KeyRefused(refusal, code=Code.KEY_INVALID)
    try:
        plaintext: bytes = _DECRYPT(sealed, aad, nonce, key)
    except nacl.exceptions.CryptoError:
        raise KeyRefused(refusal, code=Code.KEY_INVALID) from None
    return plaintext


__all__ = ["KEY_BYTES", "NONCE_BYTES", "TAG_BYTES", "decrypt", "encrypt"]
