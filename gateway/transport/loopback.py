"""Metadata the REST transcoder adds to its gRPC calls over the private socket, and that no other caller can
send: the per-process secret (compared in constant time) proves the call comes from the transcoder, which has
read the body within the byte budget already and authenticated the call, once: it names the call's client, or
the text of its refusal."""
from __future__ import annotations

LOOPBACK_METADATA = "bws-loopback"
CLIENT_METADATA = "bws-client"
REFUSAL_METADATA = "bws-refusal"
