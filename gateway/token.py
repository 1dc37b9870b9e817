"""`python -m gateway.token --clients FILE [--client ID]`: print a client's key and a fresh JWT.

A convenience for development and for curl/grpcurl sessions."""
from __future__ import annotations

import argparse
import base64

from gateway.auth import make_token
from gateway.clients import ClientRegistry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", required=True, help="client registry JSON file")
    parser.add_argument("--client", help="client id (default: the first)")
    parser.add_argument("--lifetime", type=int, default=3600, help="seconds the token is valid")
    parser.add_argument("--token-only", action="store_true")
    args = parser.parse_args()
    registry = ClientRegistry.from_file(args.clients)
    client = registry.get(args.client) if args.client else next(iter(registry))
    if client is None:
        parser.error(f"no client {args.client!r}")
    token = make_token(client.client_id, client.key, args.lifetime)
    if args.token_only:
        print(token)
    else:
        print(f"clientId: {client.client_id}\nkey: {base64.b64encode(client.key).decode()}\ntoken: {token}")


if __name__ == "__main__":
    main()
