"""Start a real three-master Redis Cluster of redis-server processes on loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from flashsale.embedded_redis import redis_server_binary

SLOTS = 16384


@dataclass
class LocalCluster:
    ports: list[int]
    workdir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def _spawn(self, port: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir / str(port)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self, *, timeout: float = 20.0) -> None:
        for port in self.ports:
            node_dir = self.workdir / str(port)
            shutil.rmtree(node_dir, ignore_errors=True)
            node_dir.mkdir(parents=True)
            self.processes.append(self._spawn(port))
        nodes = [redis.Redis(port=port, socket_timeout=2) for port in self.ports]
        deadline = time.monotonic() + timeout
        for node in nodes:
            while True:
                try:
                    node.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        # Split the slots evenly, then introduce the nodes to each other.
        per_node = SLOTS // len(nodes)
        for index, node in enumerate(nodes):
            first = index * per_node
            last = SLOTS - 1 if index == len(nodes) - 1 else first + per_node - 1
            node.execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
        for port in self.ports[1:]:
            nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
        while True:
            states = [node.cluster("INFO") for node in nodes]
            if all(
                state.get("cluster_state") == "ok" and int(state.get("cluster_known_nodes", 0)) == len(nodes)
                for state in states
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster did not converge: {states}")
            time.sleep(0.05)

    def stop_node(self, index: int) -> None:
        """Stop one master (SIGTERM): its slots stop answering until ``start_node``."""
        process = self.processes[index]
        process.terminate()
        process.wait(timeout=5)

    def start_node(self, index: int, *, timeout: float = 30.0) -> None:
        """Start a stopped master again on its port and directory (its nodes.conf keeps its identity)
        and wait until every node says the cluster is ok. Its keys are gone (no persistence)."""
        from tests.support.polling import wait_until

        self.processes[index] = self._spawn(self.ports[index])
        nodes = [redis.Redis(port=port, socket_timeout=2) for port in self.ports]

        def cluster_ok() -> bool:
            try:
                return all(node.cluster("INFO").get("cluster_state") == "ok" for node in nodes)
            except redis.ConnectionError:
                return False

        wait_until(cluster_ok, what="the cluster to be ok again after a node restart", timeout=timeout)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def node_of(client, key: str) -> str:
    """The name (host:port) of the cluster node serving ``key``'s slot."""
    return client.nodes_manager.get_node_from_slot(client.keyslot(key)).name
