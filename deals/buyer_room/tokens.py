"""Buyer-room tokens: 256 random bits in the link, only their SHA-256 in the database.

A plain (unkeyed) hash is enough: the token has 256 bits of entropy, so a leaked table
cannot be reversed, and rotating SECRET_KEY does not break every link already sent.
The lookup is by the hash (a unique index), so the time it takes says nothing about how
close a guess was; the final comparison is constant-time as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits; DESIGN asks for at least 128
# token_urlsafe(32) is 43 characters; anything far off that is not ours and never hits the DB.
TOKEN_MIN_LENGTH, TOKEN_MAX_LENGTH = 40, 64


def token_new() -> tuple[str, str]:
    """A fresh (token, hash) pair; only the hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


def token_well_formed(token: str) -> bool:
    return TOKEN_MIN_LENGTH <= len(token) <= TOKEN_MAX_LENGTH and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )
