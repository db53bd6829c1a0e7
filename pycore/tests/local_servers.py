"""Real local servers for the HTTP tests (herokupg talks through httpx): a scripted HTTP/1.1 origin
(optionally TLS with a throwaway certificate) and a forward proxy (absolute-form requests and
CONNECT tunnels).

Each records what it saw, so a test can check what went over the wire, connection by connection.
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Seen:
    connection: int  # the server's number for the TCP connection it came on
    method: str
    target: str  # the request line's target, as sent
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connected(self) -> int:
        with self.lock:
            self.connections += 1
            return self.connections


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), and its key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class RecordingHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive), quiet, and each request recorded with its connection's number."""

    protocol_version = "HTTP/1.1"
    recorder: Recorder  # set per server, on a subclass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.number = self.recorder.connected()

    def record(self) -> bytes:
        """Read the request's body, and note the request."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.recorder.lock:
            self.recorder.requests.append(
                Seen(self.number, self.command, self.path, dict(self.headers.items()), body)
            )
        return body


def recording(handler: type[RecordingHandler]) -> tuple[type[RecordingHandler], Recorder]:
    """A handler class of one server's own, and the recorder its requests go to."""
    recorder = Recorder()
    return type(handler.__name__, (handler,), {"recorder": recorder}), recorder


# What /ranged serves: 300 kB, cut off after BREAK bytes when asked for the whole body.
RANGED = b"BACKUP" + bytes(range(256)) * 1200
BREAK = 100_000


class OriginHandler(RecordingHandler):
    """Routes by path: /json, /gzip, /slow, /drop, /idle-close, /truncated, /ranged, /events,
    /redirect/<code>[?to=URL]."""

    def do_GET(self) -> None:
        self.answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def answer(self) -> None:
        self.record()
        path, _sep, query = self.path.partition("?")
        payload = json.dumps({"path": path, "connection": self.number}).encode()
        if path == "/drop":  # read the request, answer nothing
            self.close_connection = True
            return
        if path == "/slow":
            time.sleep(1.0)
        if path.startswith("/redirect/"):
            target = query.partition("to=")[2] or self.path  # no target: a loop
            self.send(int(path.rsplit("/", 1)[1]), b"", Location=target)
            return
        if path == "/gzip":
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
            self.send(200, gzip.compress(payload), **headers)
            return
        if path == "/truncated":  # promises 100 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"PGDMP" + b"x" * 5)
            self.close_connection = True
            return
        if path == "/ranged":
            self.ranged()
            return
        if path == "/events":  # a log session's Server-Sent Events, then the end of the stream
            events = b": keep-alive\n\ndata: line one\ndata: line two\n\ndata: line three\n\n"
            self.send(200, events, **{"Content-Type": "text/event-stream"})
            return
        if path == "/idle-close":
            # answer as if keep-alive, then close: a server whose idle timeout has passed
            self.send(200, payload, **{"Content-Type": "application/json"})
            self.close_connection = True
            return
        self.send(200, payload, **{"Content-Type": "application/json"})

    def ranged(self) -> None:
        """Byte ranges as S3 serves them (ETag, If-Range); a whole-body request breaks off at BREAK."""
        etag = '"ranged-v1"'
        asked = self.headers.get("Range", "")
        if asked.startswith("bytes=") and self.headers.get("If-Range") in (None, etag):
            start = int(asked.removeprefix("bytes=").split("-")[0])
            self.send(206, RANGED[start:], **{
                "Content-Range": f"bytes {start}-{len(RANGED) - 1}/{len(RANGED)}", "ETag": etag,
                "Accept-Ranges": "bytes",
            })
            return
        self.send_response(200)
        for name, value in (("Content-Length", str(len(RANGED))), ("ETag", etag), ("Accept-Ranges", "bytes")):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(RANGED[:BREAK])
        self.close_connection = True

    def send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        handler, self.recorder = recording(OriginHandler)
        super().__init__(("127.0.0.1", 0), handler)
        self.tls = tls

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(RecordingHandler):
    """A forward proxy: absolute-form requests are relayed, CONNECT opens a byte tunnel."""

    def do_CONNECT(self) -> None:
        self.record()
        host, _sep, port = self.path.rpartition(":")
        upstream = socket.create_connection((host, int(port)))
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        pair = [self.connection, upstream]
        try:
            while True:
                readable, _w, _x = select.select(pair, [], [], 5)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()

    def do_GET(self) -> None:
        import http.client
        from urllib.parse import urlsplit

        body = self.record()
        parts = urlsplit(self.path)
        upstream = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=5)
        hop_by_hop = ("proxy-authorization", "connection")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop_by_hop}
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        upstream.request(self.command, target, body or None, headers)
        answer = upstream.getresponse()
        content = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_POST = do_GET


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        handler, self.recorder = recording(ProxyHandler)
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[Any]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def tls_server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
