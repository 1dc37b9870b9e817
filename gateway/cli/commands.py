"""`bws-gateway`: the operator's command. `serve` (the default) runs the service; `clients`, `keys` and
`token` manage the client registry and the encryption key file without editing JSON by hand.

A running service re-reads both files when they change (or on SIGHUP), so edits take effect without a restart."""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import secrets
import sys
from pathlib import Path
from typing import Awaitable, Callable

from redis.exceptions import RedisError

from gateway import __version__
from gateway.cli import token
from gateway.infra import logs
from gateway.infra.files import write_private
from gateway.infra.clients import NEW_KEY_BYTES, OPERATIONS, ClientRegistry
from gateway.settings import Settings
from templates_store import KeyRing

PROG = "bws-gateway"
Serve = Callable[[Settings], Awaitable[None]]


class CommandError(Exception):
    """A clear one-line failure of an operator command."""


class UsageError(CommandError):
    """An argument out of its range: exit 2, as argparse does for the arguments it checks itself."""


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise CommandError(str(exc)) from None


# --- serve -------------------------------------------------------------------------------------------------

def _serve(args: argparse.Namespace, serve: Serve) -> None:
    settings = _settings()
    logs.configure(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except RedisError as exc:
        raise CommandError(f"cannot start: Redis: {exc}") from None
    except (OSError, RuntimeError, ValueError, asyncio.TimeoutError) as exc:
        raise CommandError(f"cannot start: {str(exc) or type(exc).__name__}") from None


# --- clients -----------------------------------------------------------------------------------------------

def _read_registry(path: Path, missing_ok: bool = False) -> dict:
    if not path.exists():
        if missing_ok:
            return {"clients": []}
        raise CommandError(f"{path}: no such file (see `{PROG} clients add --help`)")
    ClientRegistry.from_file(path)  # refuse to edit a file the service would not load
    return json.loads(path.read_text())


def _save_registry(path: Path, document: dict) -> None:
    ClientRegistry.from_json(json.dumps(document))  # never write a registry the service would refuse
    write_private(path, json.dumps(document, indent=2) + "\n")


def _entry(document: dict, client_id: str) -> dict:
    for entry in document["clients"]:
        if entry.get("clientId") == client_id:
            return entry
    raise CommandError(f"no client {client_id!r}")


def _new_key() -> str:
    """512 bits, as BioID's portal hands out (HS512 wants them); keys of 256 bits and more keep working."""
    return base64.b64encode(secrets.token_bytes(NEW_KEY_BYTES)).decode()


def _clients(args: argparse.Namespace) -> None:
    path = args.file or _settings().clients_path
    document = _read_registry(path, missing_ok=args.action == "add")
    if args.action == "list":
        for entry in document["clients"]:
            operations = ",".join(sorted(entry.get("operations", OPERATIONS)))
            flags = "".join([" encryptCompact" if entry.get("encryptCompact") else "",
                             " appSecret" if entry.get("appSecret") else ""])
            print(f"{entry['clientId']}\t{entry['storage']}/{entry['partition']}\t{operations}{flags}")
        return
    if args.action == "add":
        if any(entry.get("clientId") == args.client_id for entry in document["clients"]):
            raise CommandError(f"client {args.client_id!r} exists (rotate its key with `{PROG} clients rotate-key`)")
        entry = {"clientId": args.client_id, "key": _new_key(), "storage": args.storage,
                 "partition": args.partition, "encryptCompact": args.encrypt_compact,
                 "operations": sorted(_operations(args.operations))}
        if args.app_secret:
            entry["appSecret"] = secrets.token_urlsafe(24)
        document["clients"].append(entry)
    elif args.action == "remove":
        document["clients"].remove(_entry(document, args.client_id))
    elif args.action == "rotate-key":
        entry = _entry(document, args.client_id)
        entry["key"] = _new_key()
    _save_registry(path, document)
    if args.action == "remove":
        print(f"removed {args.client_id}")
        return
    print(f"clientId: {entry['clientId']}\nkey: {entry['key']}"
          + (f"\nappSecret: {entry['appSecret']}" if args.action == "add" and args.app_secret else ""))


def _operations(text: str | None) -> frozenset[str]:
    if not text:
        return OPERATIONS
    operations = frozenset(op.strip() for op in text.split(",") if op.strip())
    unknown = operations - OPERATIONS
    if unknown:
        raise CommandError(f"unknown operations {sorted(unknown)}; known: {','.join(sorted(OPERATIONS))}")
    return operations


# --- keys --------------------------------------------------------------------------------------------------

def _keys(args: argparse.Namespace) -> None:
    path = args.file or _settings().keys_path
    if args.action == "new":
        if path.exists():
            raise CommandError(f"{path} exists (add a key with `{PROG} keys rotate`)")
        write_private(path, KeyRing.generate(args.id or "k1").to_json())
        print(f"{path}: key {args.id or 'k1'} (active)")
        return
    if not path.exists():
        raise CommandError(f"{path}: no such file (create it with `{PROG} keys new`)")
    ring = KeyRing.from_file(path)
    if args.action == "list":
        for key_id in ring.keys:
            print(key_id + (" (active)" if key_id == ring.active else ""))
        return
    key_id = args.id or next(f"k{n}" for n in range(len(ring.keys) + 1, 10 ** 6) if f"k{n}" not in ring.keys)
    if key_id in ring.keys:
        raise CommandError(f"key {key_id!r} exists")
    rotated = KeyRing(active=key_id, keys={**ring.keys, key_id: KeyRing.generate().keys["k1"]})
    write_private(path, rotated.to_json())
    print(f"{path}: key {key_id} (active); new templates are encrypted with it, "
          f"{', '.join(ring.keys)} still open older ones")


# --- token -------------------------------------------------------------------------------------------------

def _token(args: argparse.Namespace) -> None:
    settings = _settings()
    if not 1 <= args.lifetime <= settings.max_token_lifetime_seconds:
        raise UsageError(f"--lifetime must be 1 to {settings.max_token_lifetime_seconds} seconds "
                         "(BWS_MAX_TOKEN_LIFETIME_SECONDS): the service refuses longer tokens")
    if args.clients is None:
        args.clients = settings.clients_path
        if settings.clients_file is None and not args.clients.exists():
            raise CommandError(f"{args.clients}: no development client yet: start the service once (`make run`) "
                               "to create it, or set BWS_CLIENTS_FILE")
    print(token.run(args))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{serve,clients,keys,token}")
    sub.add_parser("serve", help="run the service (the default); configured by BWS_* environment variables",
                   description="Serve gRPC and REST until SIGTERM or Ctrl-C. All configuration comes from "
                               "BWS_* environment variables (see the README).")

    clients = sub.add_parser("clients", help="add, list, remove clients or rotate their keys",
                             description="Edit the client registry (BWS_CLIENTS_FILE, else the development "
                                         "registry in BWS_DATA_DIR). Keys are generated here and printed once.")
    clients_sub = clients.add_subparsers(dest="action", required=True)
    file_help = "the registry file (default: BWS_CLIENTS_FILE, else BWS_DATA_DIR/dev-clients.json)"
    for action, text in (("add", "add a client with a new key"), ("list", "list clients (never their keys)"),
                         ("remove", "remove a client"), ("rotate-key", "give a client a new key")):
        cmd = clients_sub.add_parser(action, help=text, description=text)
        cmd.add_argument("--file", type=Path, help=file_help)
        if action != "list":
            cmd.add_argument("client_id", metavar="CLIENT_ID")
    add = clients_sub.choices["add"]
    add.add_argument("--storage", required=True, help="the storage part of the client's BCIDs")
    add.add_argument("--partition", type=int, required=True, help="the partition part of the client's BCIDs")
    add.add_argument("--operations", help=f"comma-separated (default: all of {','.join(sorted(OPERATIONS))})")
    add.add_argument("--encrypt-compact", action="store_true", help="encrypt compact templates too")
    add.add_argument("--app-secret", action="store_true",
                     help="generate an appSecret for /extension/token Basic auth (else the key is the secret)")

    keys = sub.add_parser("keys", help="create, rotate or list the template encryption keys",
                          description="Edit the key file (BWS_KEYS_FILE, else BWS_DATA_DIR/dev-keys.json). "
                                      "Key material is never printed.")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    for action, text in (("new", "create a key file with one active key"),
                         ("rotate", "add a new key and make it active (old keys stay, to open old templates)"),
                         ("list", "list key ids and which is active")):
        cmd = keys_sub.add_parser(action, help=text, description=text)
        cmd.add_argument("--file", type=Path, help="the key file (default: BWS_KEYS_FILE, "
                                                   "else BWS_DATA_DIR/dev-keys.json)")
        if action != "list":
            cmd.add_argument("--id", help="the new key's id (default: k1, k2, ...)")

    tok = sub.add_parser("token", help="print a client's key and a JWT for curl or grpcurl",
                         description=token.__doc__)
    token.add_arguments(tok, default_clients="BWS_CLIENTS_FILE, else BWS_DATA_DIR/dev-clients.json")
    return p


def main(serve: Serve, argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        if args.command in (None, "serve"):
            _serve(args, serve)
        elif args.command == "clients":
            _clients(args)
        elif args.command == "keys":
            _keys(args)
        else:
            _token(args)
    except (CommandError, OSError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        sys.exit(2 if isinstance(exc, UsageError) else 1)
