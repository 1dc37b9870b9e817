"""One URL says which Redis to use, from a single server to a cluster.

    redis://host:6379/0, rediss://..., unix:///path/redis.sock?db=0   one server (redis-py's own URLs)
    redis+sentinel://host1:26379,host2:26379/<master name>[?db=0]     the master that Sentinel names
    redis+cluster://host1:6379,host2:6379                             Redis Cluster

Passwords go in the URL's user-info (for sentinel URLs they are the data
nodes' password) or in BWS_REDIS_PASSWORD, never in logs.
"""
from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import Redis, RedisCluster, Sentinel
from redis.asyncio.cluster import ClusterNode


def _hosts(netloc: str, default_port: int) -> list[tuple[str, int]]:
    hosts = []
    for part in netloc.rpartition("@")[2].split(","):
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        hosts.append((host or "localhost", int(port or default_port)))
    return hosts


def _credentials(netloc: str) -> dict[str, str]:
    if "@" not in netloc:
        return {}
    user, _, password = netloc.rpartition("@")[0].partition(":")
    return {k: unquote(v) for k, v in (("username", user), ("password", password)) if v}


def connect(url: str, password: str | None = None, timeout: float = 5.0) -> Redis | RedisCluster:
    """`timeout` bounds connecting and each reply: a dead or frozen server is an error, not a hang."""
    parts = urlsplit(url)
    credentials = _credentials(parts.netloc)
    if password and "password" not in credentials:
        credentials["password"] = password
    if parts.scheme == "redis+sentinel":
        name = parts.path.strip("/")
        if not name:
            raise ValueError("a redis+sentinel URL names the master: redis+sentinel://host:26379/<name>")
        db = int(parse_qs(parts.query).get("db", ["0"])[0])
        sentinel = Sentinel(_hosts(parts.netloc, 26379), socket_timeout=timeout, **credentials)
        return sentinel.master_for(name, db=db, socket_timeout=timeout, socket_connect_timeout=timeout)
    if parts.scheme == "redis+cluster":
        nodes = [ClusterNode(host, port) for host, port in _hosts(parts.netloc, 6379)]
        return RedisCluster(startup_nodes=nodes, socket_timeout=timeout, socket_connect_timeout=timeout, **credentials)
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                          **({"password": password} if password and not parts.password else {}))
