"""`bws-gateway token` (also `python -m gateway.cli.token`): print a client's key and a fresh API token (the JWT
of bws_proto/api_token.py).

A convenience for development and for curl/grpcurl sessions."""
from __future__ import annotations

import argparse
import base64
from pathlib import Path

from gateway.infra.auth import ALGORITHMS, make_token
from bws_proto.api_token import ALGORITHM
from gateway.infra.clients import ClientRegistry


def add_arguments(parser: argparse.ArgumentParser, default_clients: str | None = None) -> None:
    """default_clients: how the caller finds the registry when --clients is not given (else it is required)."""
    default = f" (default: {default_clients})" if default_clients else ""
    parser.add_argument("--clients", type=Path, required=default_clients is None,
                        help=f"client registry JSON file{default}")
    parser.add_argument("--client", help="client id (default: the first)")
    parser.add_argument("--lifetime", type=int, default=3600, help="seconds the token is valid (default: 3600)")
    parser.add_argument("--algorithm", choices=ALGORITHMS, default=ALGORITHM,
                        help=f"HMAC algorithm to sign with (default: {ALGORITHM}; BioID's tools sign HS512)")
    parser.add_argument("--token-only", action="store_true", help="print the token alone (for scripts)")


def run(args: argparse.Namespace) -> str:
    """The text to print; ValueError/OSError when the registry or the client is not there."""
    registry = ClientRegistry.from_file(args.clients)
    client = registry.get(args.client) if args.client else next(iter(registry), None)
    if client is None:
        raise ValueError(f"{args.clients}: no client {args.client or ''}".rstrip())
    token = make_token(client.client_id, client.key, args.lifetime, algorithm=args.algorithm)
    if args.token_only:
        return token
    return f"clientId: {client.client_id}\nkey: {base64.b64encode(client.key).decode()}\ntoken: {token}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    args = parser.parse_args()
    try:
        print(run(args))
    except (OSError, ValueError) as exc:
        parser.exit(1, f"{parser.prog}: {exc}\n")


if __name__ == "__main__":
    main()
