"""A TCP proxy in front of a real IMAP server that drops or stalls connections on demand.

The sandbox writes mail into a Maildir but speaks no IMAP itself; a real server (the tests'
Dovecot) serves that. Put this proxy between it and the IMAP client, and faults for platform
``imap`` strike on the client's commands, each read from the socket counting as one: a
``disconnect`` closes both sides at once, a ``timeout`` forwards nothing for ``seconds`` and
then closes them.
"""

import socket
import threading
import time
from contextlib import suppress

from demo.sandbox.state import SandboxState

CHUNK = 64 * 1024


class ImapProxy:
    """Listens on 127.0.0.1:``port`` (any free port by default) and relays to ``upstream``."""

    def __init__(self, state: SandboxState, *, upstream: tuple[str, int], port: int = 0) -> None:
        self.state = state
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", port))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_forever, name="sandbox-imap")
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def start(self) -> "ImapProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join()

    def _accept_forever(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            threading.Thread(target=self._relay, args=(server, client), daemon=True).start()
            threading.Thread(target=self._commands, args=(client, server), daemon=True).start()

    def _commands(self, client: socket.socket, server: socket.socket) -> None:
        """Relay the client's commands, unless a fault strikes one of them."""
        try:
            while chunk := client.recv(CHUNK):
                fault = self.state.take_fault("imap")
                if fault is not None:
                    if fault.kind == "timeout":
                        time.sleep(fault.seconds)
                    return
                server.sendall(chunk)
        except OSError:
            return
        finally:
            _close(client, server)

    @staticmethod
    def _relay(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(CHUNK):
                target.sendall(chunk)
        except OSError:
            return
        finally:
            _close(source, target)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
