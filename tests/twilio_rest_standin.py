"""Twilio's REST API over the network, for the app's unmodified `twilio` client.

The client reaches it as it reaches Twilio: through `HTTPS_PROXY` (this is an HTTP proxy
that answers CONNECT itself) and TLS, trusting the test CA named by `REQUESTS_CA_BUNDLE`.
Behind it, the calls, queues and phones are tests/twilio_world.py's (in real time); the
faults are the world's (`world.faults`), applied here as Twilio's API would show them:

- an HTTP status ("401", "429", "500", ...): Twilio's JSON error, nothing done;
- "slow": done, then answered after `slow_seconds` (the client gave up after 3 s);
- "lost": answered after `slow_seconds`, nothing done;
- "unreachable": the proxy refuses the tunnel (502): nothing leaves the machine.

Standard library and `cryptography` only (a dependency of the app).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.twilio_world import World

HOSTS = ["api.twilio.com", "*.twilio.com", "*.us1.twilio.com", "*.ie1.twilio.com",
         "*.au1.twilio.com", "*.dublin.ie1.twilio.com", "*.sydney.au1.twilio.com"]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for Twilio's API hosts: (ca, cert, key) files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ivr test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in HOSTS]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "api.pem", folder / "api.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class RestStandIn:
    """The proxy and the API behind it; `env()` is what the app's processes need."""

    def __init__(self, world: World, folder: Path, account_sid: str, auth_token: str) -> None:
        self.world = world
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.slow_seconds = 5.0
        self.hosts: list[str] = []  # the host of each tunnel the client opened
        self._open: set[ssl.SSLSocket] = set()
        self._lock = threading.Lock()
        self.ca, cert, key = make_certificates(folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        standin = self

        class Tunnel(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                standin._tunnel(self.request, self.client_address)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Tunnel)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{self.port}"
        return {"HTTPS_PROXY": proxy, "https_proxy": proxy, "REQUESTS_CA_BUNDLE": str(self.ca),
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _tunnel(self, sock: socket.socket, address: Any) -> None:
        reader = sock.makefile("rb")
        request_line = reader.readline().decode("latin-1").split()
        while reader.readline() not in (b"\r\n", b"\n", b""):
            pass
        reader.close()
        if len(request_line) < 2 or request_line[0] != "CONNECT":
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = request_line[1].rsplit(":", 1)[0]
        self.hosts.append(host)
        if self.world.faults.get("*") == "unreachable":
            sock.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            tls = self.tls.wrap_socket(sock, server_side=True)  # takes over the socket
        except (ssl.SSLError, OSError):
            return
        with self._lock:
            self._open.add(tls)
        standin = self

        class Api(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                standin._answer(self, "GET")

            def do_POST(self) -> None:
                standin._answer(self, "POST")

            def do_DELETE(self) -> None:
                standin._answer(self, "DELETE")

        try:
            Api(tls, address, self.server)
        except (ssl.SSLError, OSError):
            pass
        finally:
            with self._lock:
                self._open.discard(tls)
            tls.close()

    def cut_tunnels(self) -> None:
        """Cut every open tunnel (a network partition also ends kept-alive connections)."""
        with self._lock:
            tunnels = list(self._open)
        for sock in tunnels:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _answer(self, http: BaseHTTPRequestHandler, method: str) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        form = parse_qs(http.rfile.read(length).decode()) if length else {}
        path = http.path.split("?")[0]
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if http.headers.get("Authorization") != f"Basic {expected}":
            self._send(http, 401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        prefix = f"/2010-04-01/Accounts/{self.account_sid}"
        one = {k: v[0] for k, v in form.items()}
        if method == "GET" and path == prefix + ".json":
            operation, subject = "fetch_account", ""
        elif method == "POST" and path == prefix + "/Calls.json":
            operation, subject = "create_call", one.get("To", "")
        elif method == "POST" and path.startswith(prefix + "/Calls/"):
            operation, subject = "end_call", path.rsplit("/", 1)[1].removesuffix(".json")
        elif method == "DELETE" and path.startswith(prefix + "/Queues/"):
            operation, subject = "delete_queue", path.rsplit("/", 1)[1].removesuffix(".json")
        else:
            self._send(http, 404, {"code": 20404, "message": "not found", "status": 404})
            return
        fault = self.world.count_rest(operation, subject, one.get("Url", ""))
        if fault and fault.isdigit():
            self._send(http, int(fault), {"code": 20000 + int(fault), "status": int(fault),
                                          "message": f"stand-in: {fault}"})
            return
        if fault == "lost":
            time.sleep(self.slow_seconds)
            self._send(http, 503, {"code": 20503, "status": 503, "message": "too late"})
            return
        status, body = self._do(operation, subject, form, one)
        if fault == "slow":
            time.sleep(self.slow_seconds)
        self._send(http, status, body)

    def _do(self, operation: str, subject: str, form: dict[str, list[str]], one: dict[str, str]
            ) -> tuple[int, dict[str, Any]]:
        world = self.world
        if operation == "fetch_account":
            return 200, {"sid": self.account_sid, "status": "active"}
        if operation == "create_call":
            sid = world.place_call(one.get("To", ""), one.get("From", ""), one.get("Url", ""),
                                   one.get("StatusCallback", ""),
                                   tuple(form.get("StatusCallbackEvent", [])),
                                   int(one.get("Timeout", "60")))
            return 201, {"sid": sid, "status": "queued", "to": one.get("To")}
        if operation == "end_call":
            if not world.stop_call(subject, one.get("Status", "")):
                return 404, {"code": 20404, "status": 404, "message": "no such call"}
            return 200, {"sid": subject, "status": one.get("Status")}
        if not world.remove_queue(subject):
            return 400, {"code": 20400, "status": 400, "message": "queue not empty"}
        return 204, {}

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode() if status != 204 else b""
        try:
            http.send_response(status)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
        except OSError:
            pass  # the client gave up (a slow answer): what was asked is done all the same
