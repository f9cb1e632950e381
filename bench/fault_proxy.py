"""A TCP proxy in front of PostgreSQL that can refuse, drop and stall (for the fault tests
and bench/nothing_lost.py). Standard library only.

    refuse(): nothing listens (connection refused) and every open connection is cut;
    drop():   every open connection is cut (RST), new ones are accepted;
    stall():  connections stay open but no byte moves (a network partition);
    heal():   back to forwarding.
"""

from __future__ import annotations

import select
import socket
import struct
import threading


class FaultProxy:
    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._moving = threading.Event()
        self._moving.set()
        self._closed = False
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                self._moving.wait()
                readable, _, _ = select.select([source], [], [], 0.1)
                if not readable or not self._moving.is_set():
                    continue
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, ValueError):  # cut meanwhile (a closed socket's fd is -1)
            pass
        finally:
            self._cut(source)
            self._cut(sink)

    def _cut(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.discard(sock)
        try:  # RST, as a dropped network path looks to the other side
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass

    def drop(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            self._cut(sock)

    def refuse(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.drop()

    def stall(self) -> None:
        self._moving.clear()

    def heal(self) -> None:
        self._moving.set()
        if self._listener is None and not self._closed:
            self._listen()

    def close(self) -> None:
        self._closed = True
        self._moving.set()
        self.refuse()


class RoundRobinProxy:
    """A load balancer in front of several web processes: each new connection goes to the
    next one; one that refuses the connection (stopped, restarting) is skipped, as a load
    balancer with retries on connect errors does."""

    def __init__(self, targets: list[tuple[str, int]]) -> None:
        self.targets = list(targets)
        self._next = 0
        self._lock = threading.Lock()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self.used: list[int] = []  # the index of the target each connection went to
        threading.Thread(target=self._accept, daemon=True).start()

    def _upstream(self) -> socket.socket | None:
        with self._lock:
            order = [(self._next + i) % len(self.targets) for i in range(len(self.targets))]
            self._next = (self._next + 1) % len(self.targets)
        for index in order:
            try:
                upstream = socket.create_connection(self.targets[index], timeout=5)
            except OSError:
                continue
            upstream.settimeout(None)
            with self._lock:
                self.used.append(index)
            return upstream
        return None

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = self._upstream()
            if upstream is None:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._listener.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        source.close()
