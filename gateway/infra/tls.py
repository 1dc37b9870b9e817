"""TLS for the public ports, from BWS_TLS_CERT / BWS_TLS_KEY (PEM) and, for
mutual TLS, BWS_TLS_CLIENT_CA. The internal unix-socket loopback the REST
transcoder uses stays plaintext: it never leaves the host."""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from gateway.settings import Settings


@dataclass(frozen=True)
class TlsFiles:
    cert: bytes
    key: bytes
    client_ca: bytes | None
    paths: tuple[Path, Path, Path | None]


def tls_files(settings: Settings) -> TlsFiles | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    named = {"BWS_TLS_CERT": settings.tls_cert, "BWS_TLS_KEY": settings.tls_key,
             "BWS_TLS_CLIENT_CA": settings.tls_client_ca}
    for name, path in named.items():
        if path is not None and not path.is_file():
            raise ValueError(f"{name}: no file {path}")
    ca = settings.tls_client_ca.read_bytes() if settings.tls_client_ca else None
    return TlsFiles(settings.tls_cert.read_bytes(), settings.tls_key.read_bytes(), ca,
                    (settings.tls_cert, settings.tls_key, settings.tls_client_ca))


def grpc_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials([(files.key, files.cert)], root_certificates=files.client_ca,
                                       require_client_auth=files.client_ca is not None)


def http_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.paths[0], files.paths[1])
        if files.client_ca is not None:
            context.load_verify_locations(cadata=files.client_ca.decode("ascii"))
            context.verify_mode = ssl.CERT_REQUIRED
    except (ssl.SSLError, UnicodeDecodeError) as exc:
        raise ValueError(f"BWS_TLS_*: cannot load the certificate, key or client CA: {exc}") from None
    return context
