"""AES-256-GCM envelopes for templates, with key ids so keys can rotate.

Envelope: MAGIC | key-id length (1 byte) | key id | 12-byte nonce | ciphertext+tag.
The associated data binds a blob to its BCID and field, so a blob copied to
another class or another field fails to open.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"BWX1"
NONCE_BYTES = 12


class TemplateDecryptionError(Exception):
    """A sealed blob could not be opened (unknown key, tampered, or moved)."""


@dataclass(frozen=True)
class KeyRing:
    active: str
    keys: dict[str, bytes]

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError(f"active key {self.active!r} is not in the key ring")
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
            if not 0 < len(key_id.encode()) < 256:
                raise ValueError("key ids must be 1 to 255 bytes")

    @classmethod
    def from_json(cls, text: str) -> "KeyRing":
        data = json.loads(text)
        try:
            keys = {kid: base64.b64decode(value, validate=True) for kid, value in data["keys"].items()}
            return cls(active=data["active"], keys=keys)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ValueError('keys file must look like {"active": "k1", "keys": {"k1": "<base64 32 bytes>"}}') from exc

    @classmethod
    def from_file(cls, path: Path) -> "KeyRing":
        return cls.from_json(path.read_text())

    @classmethod
    def generate(cls, key_id: str = "k1") -> "KeyRing":
        return cls(active=key_id, keys={key_id: secrets.token_bytes(32)})

    def to_json(self) -> str:
        return json.dumps({"active": self.active,
                           "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()}})

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        key_id = self.active.encode()
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, associated_data)
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + ciphertext

    def open(self, blob: bytes, associated_data: bytes) -> bytes:
        if not is_sealed(blob):
            raise TemplateDecryptionError("not an encrypted template")
        kid_len = blob[len(MAGIC)]
        start = len(MAGIC) + 1
        key_id = blob[start:start + kid_len].decode(errors="replace")
        nonce = blob[start + kid_len:start + kid_len + NONCE_BYTES]
        ciphertext = blob[start + kid_len + NONCE_BYTES:]
        key = self.keys.get(key_id)
        if key is None:
            raise TemplateDecryptionError(f"template was encrypted with unknown key id {key_id!r}")
        try:
            return AESGCM(key).decrypt(nonce, ciphertext, associated_data)
        except InvalidTag as exc:
            raise TemplateDecryptionError("template failed authentication (tampered or moved)") from exc

    def key_id_of(self, blob: bytes) -> str | None:
        if not is_sealed(blob):
            return None
        kid_len = blob[len(MAGIC)]
        return blob[len(MAGIC) + 1:len(MAGIC) + 1 + kid_len].decode(errors="replace")


def is_sealed(blob: bytes) -> bool:
    return blob[:len(MAGIC)] == MAGIC and len(blob) > len(MAGIC) + 1 + NONCE_BYTES
