"""ImageClassifierService under attack, as a real process (waitress, the real model): nothing a client
sends can stall it, bloat it or turn it against the network it runs in (issue 10)."""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bombs import icns, ico, png
from classifier import fetch as fetching
from classifier.app import FETCH_FAILED, create_app
from classifier.export import load
from classifier.settings import ClassifierSettings
from conftest import IMAGES, MODELS, classifier_main
from slow_server import trickling_server

BANANA = (IMAGES / "banana1.jpg").read_bytes()
MAX_IMAGE_BYTES = 4 * 1024 * 1024
TRICKLE_INTERVAL_S = 3.0
URL_TIMEOUT_S = 4
IDLE_TIMEOUT_S = 2
CONNECTION_LIMIT = 100
POSITIVE_EXAMPLES, NEGATIVE_EXAMPLES = 20, 10
OTHER_FORMAT = " images are not accepted: send a JPEG, PNG, BMP, WebP or TIFF image"
CONTENT_FAILURES_IMAGE = ("BadRequestImageFormat", "the image could not be decoded: send a JPEG, PNG, BMP, WebP or TIFF image")
CONTENT_FAILURES = {CONTENT_FAILURES_IMAGE,
                    ("BadRequestImageUrl", FETCH_FAILED)}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Service:
    process: subprocess.Popen[str]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, path: str, data: bytes | None = None, content_type: str = "application/octet-stream",
                timeout_s: float = 10.0) -> Reply:
        """One HTTP request on a new connection; every status is returned, none raised."""
        headers = {"Content-Type": content_type} if data is not None else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(self.base + path, data=data, headers=headers),
                                        timeout=timeout_s) as reply:
                return Reply(reply.status, dict(reply.headers), reply.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def post_url(self, url: str, timeout_s: float = 10.0) -> Reply:
        return self.request("/url", json.dumps({"url": url}).encode(), "application/json", timeout_s)

    def status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` figure, kB (VmHWM: peak resident memory)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def largest_open_file(self) -> int:
        """Bytes in the largest regular file the service holds open (waitress spools bodies to temp files)."""
        sizes = [0]
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                info = fd.stat()
            except OSError:
                continue
            if info.st_mode & 0o170000 == 0o100000:
                sizes.append(info.st_size)
        return max(sizes)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """main.py as IoT Edge runs it (standalone), with short timeouts so the tests stay quick."""
    folder = tmp_path_factory.mktemp("service")
    env = {"MODEL_DIR": str(MODELS / "apples-bananas"), "TMPDIR": str(folder), "URL_ALLOWED_HOSTS": "127.0.0.1",
           "URL_TIMEOUT_S": str(URL_TIMEOUT_S), "IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
           "CONNECTION_LIMIT": str(CONNECTION_LIMIT), "THREADS": "4", "URL_DOWNLOADS": "2"}
    with classifier_main(env, folder) as (process, port, _log):
        yield Service(process, port)


@pytest.fixture()
def trickle_server() -> Iterator[str]:
    with trickling_server(TRICKLE_INTERVAL_S) as base:
        yield f"{base}/image.jpg"


def test_trickling_url_downloads_cannot_stall_the_service(service: Service, trickle_server: str) -> None:
    """Six /url requests to a server trickling a byte every 3 s: two download slots, each ended by the
    URL_TIMEOUT_S deadline for the whole download; the rest refused at once (503, Retry-After);
    /health/live, /health/ready, /metrics and /image keep answering meanwhile."""
    with ThreadPoolExecutor(6) as pool:
        attacks = [pool.submit(service.post_url, trickle_server, 60) for _ in range(6)]
        time.sleep(0.5)  # the downloads are under way
        started = time.monotonic()
        for path in ("/health/live", "/health/ready", "/metrics"):
            assert service.request(path, timeout_s=3).status == 200, path
        assert service.request("/image", BANANA, timeout_s=5).status == 200
        print(f"health, metrics and /image answered in {time.monotonic() - started:.2f} s during the attack")
        replies = [attack.result(timeout=60) for attack in attacks]
    busy = [r for r in replies if r.status == 503]
    assert len(busy) == 4 and all(r.headers["Retry-After"] == str(URL_TIMEOUT_S) for r in busy)
    assert busy[0].json()["code"] == "ServiceUnavailable"
    timed_out = [r for r in replies if r.status == 400]
    assert len(timed_out) == 2
    assert all(r.json() == {"code": "BadRequestImageUrl", "message": FETCH_FAILED} for r in timed_out)


def test_pixel_bombs_are_refused_from_the_header_and_memory_stays_bounded(service: Service) -> None:
    """Four 12000 x 12000 PNGs at once (432 MB each decoded): 413 from the header; then four of the
    largest size allowed at once: classified. The service's peak resident memory (VmHWM) stays under 250 MB."""
    bomb = png(12000, 12000)
    assert len(bomb) < MAX_IMAGE_BYTES
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: service.request("/image", bomb, timeout_s=60), range(4)))
    for reply in replies:
        assert reply.status == 413, reply.body[:200]
        assert reply.json()["code"] == "BadRequestImageDimensions" and "12000x12000" in reply.json()["message"]
    peak_mb = service.status("VmHWM") / 1024
    print(f"peak RSS of the service after 4 concurrent pixel bombs: {peak_mb:.0f} MB")
    assert peak_mb < 250
    largest = png(4000, 4000)  # MAX_IMAGE_PIXELS' default, 16 megapixels: decoded one at a time
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: service.request("/image", largest, timeout_s=60).status, range(4)))
    assert statuses == [200] * 4
    peak_mb = service.status("VmHWM") / 1024
    print(f"peak RSS of the service after 4 concurrent 16-megapixel images: {peak_mb:.0f} MB")
    assert peak_mb < 250


def test_ico_and_icns_bombs_are_refused_before_any_frame_is_decoded(service: Service) -> None:
    """A 12000 x 12000 RGBA PNG inside an ICO whose directory says 256x256, and inside an ICNS ``ic08``
    entry (~560 KB each; Pillow decodes their frames in ``Image.open``), four of each at once: 400 with a
    JSON reason naming the format and the ones accepted, from the header (Pillow restricted to JPEG, PNG,
    BMP, WebP and TIFF); the service classifies afterwards. Peak memory: benchmarks/hardening.py."""
    frame = png(12000, 12000, channels=4)
    for name, bomb in (("ICO", ico(frame)), ("ICNS", icns(frame))):
        assert len(bomb) < MAX_IMAGE_BYTES
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(lambda body: service.request("/image", body, timeout_s=60), [bomb] * 4))
        for reply in replies:
            assert reply.status == 400, (name, reply.status, reply.body[:200])
            assert reply.json() == {"code": "BadRequestImageFormat",
                                    "message": f"{name} images are not accepted: send a JPEG, PNG, BMP, WebP or TIFF image"}
    reply = service.request("/image", BANANA)
    assert reply.status == 200 and reply.json()["predictions"][0]["tagName"] == "Banana"


def _answer(sock: socket.socket, timeout_s: float = 10.0) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of the answer on ``sock``. The server closes the connection after it, with a
    reset when part of the request was left unread (the answer before the reset is still received)."""
    sock.settimeout(timeout_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        assert data, "reset before any answer"
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _stream(service: Service, head: bytes, chunks: Iterator[bytes]) -> tuple[int, int, dict[str, Any]]:
    """Send ``head``, then ``chunks`` until the server answers or hangs up: (bytes of body sent, status, body)."""
    sent, largest = 0, service.largest_open_file()
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                if select.select([sock], [], [], 0)[0]:
                    break  # the answer is there
                sock.sendall(chunk)
                sent += len(chunk)
                if sent % (1 << 20) < len(chunk):
                    largest = max(largest, service.largest_open_file())
        except OSError:  # the server closed the connection while we were sending
            pass
        status, body = _answer(sock)
    assert largest <= MAX_IMAGE_BYTES + 65536, f"the service buffered {largest} bytes of the body"
    return sent, status, body


def test_an_oversized_body_is_refused_before_it_is_buffered(service: Service) -> None:
    """A 300 MB upload, announced (Content-Length) and chunked: 413 JSON long before 300 MB are sent,
    and the service never holds more than the 4 MB cap of it (waitress spools bodies to temp files)."""
    total, piece = 300 * 1024 * 1024, b"\0" * 65536
    announced = (f"POST /image HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                 f"Content-Length: {total}\r\n\r\n").encode()
    sent, status, body = _stream(service, announced, (piece for _ in range(total // len(piece))))
    assert status == 413 and body["code"] == "BadRequestImageSizeBytes"
    assert sent < 64 * 1024 * 1024
    print(f"Content-Length: 413 after {sent / 2**20:.1f} MB sent of 300 MB")
    chunked = b"POST /image HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    framed = b"10000\r\n" + piece + b"\r\n"
    sent, status, body = _stream(service, chunked, (framed for _ in range(total // len(piece))))
    assert status == 413 and body["code"] == "BadRequestImageSizeBytes"
    assert sent < 64 * 1024 * 1024
    print(f"chunked: 413 after {sent / 2**20:.1f} MB sent of 300 MB")
    assert service.request("/image", BANANA).status == 200


def test_idle_connections_cannot_lock_clients_out(service: Service) -> None:
    """150 idle TCP connections, more than CONNECTION_LIMIT: the idle ones are closed after
    IDLE_TIMEOUT_S, and health and a classification answer (waitress's defaults: 100 connections,
    closed after 120-150 s)."""
    idle = [socket.create_connection(("127.0.0.1", service.port), timeout=10) for _ in range(150)]
    try:
        started = time.monotonic()
        assert service.request("/health/live", timeout_s=20).status == 200
        reply = service.request("/image", BANANA, timeout_s=20)
        assert reply.status == 200 and reply.json()["predictions"][0]["tagName"] == "Banana"
        print(f"with 150 idle connections, health and /image answered in {time.monotonic() - started:.2f} s")
    finally:
        for sock in idle:
            sock.close()


def test_held_connections_cannot_starve_the_health_check(tmp_path: Path) -> None:
    """Issue 22 item 3: more connections held open than CONNECTION_LIMIT allows (20 against 8 here; 260
    against 250 in benchmarks/hardening.py), reopened as the service closes them, with IDLE_TIMEOUT_S at its
    600 s maximum: /health/live and a classification still answer, each within a generous deadline far
    under the idle timeout (the server closes the connection idle longest to make room for a new one)."""
    env = {"MODEL_DIR": str(MODELS / "apples-bananas"), "TMPDIR": str(tmp_path), "CONNECTION_LIMIT": "8",
           "IDLE_TIMEOUT_S": "600", "METRICS_PORT": "0"}
    with classifier_main(env, tmp_path) as (_process, port, _log):
        service = Service(_process, port)
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
        stop = threading.Event()

        def hold() -> None:  # reopen every connection the service closes, as the attacker does
            while not stop.is_set():
                for sock in select.select(held, [], [], 0.1)[0]:
                    if sock.recv(1) == b"":
                        sock.close()
                        held[held.index(sock)] = socket.create_connection(("127.0.0.1", port), timeout=10)

        def answered(path: str, data: bytes | None = None) -> Reply:
            """The answer within 60 s. A connection that has sent nothing yet is as idle as a held one, so
            under churn one the client was slow to send on (a loaded machine) may be the one closed; the
            client then retries, as an HTTP client does when a server closes before answering."""
            deadline = time.monotonic() + 60
            while True:
                try:
                    return service.request(path, data, timeout_s=max(1.0, deadline - time.monotonic()))
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, urllib.error.URLError):
                    assert time.monotonic() < deadline, f"{path}: closed before an answer for 60 s"

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        try:
            for _ in range(3):
                assert answered("/health/live").status == 200
            reply = answered("/image", BANANA)
            assert reply.status == 200 and reply.json()["predictions"][0]["tagName"] == "Banana"
        finally:
            stop.set()
            holder.join(10)
            for sock in held:
                sock.close()


def test_the_servers_own_errors_are_json(service: Service) -> None:
    """A malformed request line (400) and too large headers (431), answered by waitress before any
    app code runs, are JSON {"code", "message"} like every other error."""
    for head, status in ((b"GARBAGE\r\n\r\n", 400),
                         (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", 431)):
        with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
            sock.sendall(head)
            got, body = _answer(sock)
        assert got == status and body["code"] and body["message"]
    wrong = service.request("/health/live", b"x")
    assert wrong.status == 405 and wrong.headers["Allow"] and wrong.json()["code"] == "MethodNotAllowed"


class Redirect(BaseHTTPRequestHandler):
    """Redirects every GET to the URL in its path (``/?to=...``): a way around a host check."""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path.split("?to=", 1)[1])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """A loopback server with the fixture photos and one that redirects: (photos, redirector) base URLs."""
    photos = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(IMAGES)))
    redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for server in (photos, redirector):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{photos.server_address[1]}", f"http://127.0.0.1:{redirector.server_address[1]}"
    for server in (photos, redirector):
        server.shutdown()
        server.server_close()


def _client(**settings: Any) -> FlaskClient:
    return create_app(load(MODELS / "apples-bananas"), ClassifierSettings(url_timeout_s=3, **settings)).test_client()


def test_url_refuses_non_public_targets_with_one_message(service: Service, servers: tuple[str, str]) -> None:
    """/url reaches no loopback, private, link-local or unspecified address unless its host is listed in
    URL_ALLOWED_HOSTS, also not through a redirect; every failure (refused, closed port, open
    port, 404) reads the same."""
    photos, redirector = servers
    port = photos.rsplit(":", 1)[1]
    failed = {"code": "BadRequestImageUrl", "message": FETCH_FAILED}
    default = _client()
    for url in (f"{photos}/banana2.jpg", f"{service.base}/metrics", f"http://localhost:{port}/banana2.jpg",
                f"http://0.0.0.0:{port}/banana2.jpg", f"http://[::ffff:127.0.0.1]:{port}/banana2.jpg",
                f"http://[::1]:{port}/banana2.jpg", f"http://2130706433:{port}/banana2.jpg", "http://169.254.169.254/latest/",
                "http://10.0.0.1/x.jpg", "http://192.168.1.1/x.jpg", "http://127.0.0.1:9/x.jpg"):
        reply = default.post("/url", json={"url": url})
        assert (reply.status_code, reply.get_json()) == (400, failed), url
    allowed = _client(url_allowed_hosts="127.0.0.1")
    assert allowed.post("/url", json={"url": f"{photos}/banana2.jpg"}).status_code == 200
    for url in (f"{redirector}/?to=http://localhost:{port}/banana2.jpg",  # redirect to a host not allowed
                f"{redirector}/?to=http://[::ffff:127.0.0.1]:{port}/banana2.jpg",
                f"{photos}/missing.jpg", "http://127.0.0.1:9/x.jpg", f"{service.base}/health/nothing"):
        reply = allowed.post("/url", json={"url": url})
        assert (reply.status_code, reply.get_json()) == (400, failed), url
    followed = allowed.post("/url", json={"url": f"{redirector}/?to={photos}/banana2.jpg"})
    assert followed.status_code == 200  # a redirect between allowed hosts is followed


def _fuzz(operation: Any, mode: GenerationMode, examples: int, base: str, statuses: Counter[int]) -> None:
    """``examples`` requests generated for ``operation`` in ``mode``, each checked by every schemathesis check
    but positive_data_acceptance, which is replaced by a stricter one: a documented request may be refused
    only for content OpenAPI cannot describe (random bytes are no image, a random URL cannot be fetched)."""
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        reply = case.call_and_validate(base_url=base, timeout=15, excluded_checks=[positive_data_acceptance])
        statuses[reply.status_code] += 1
        if mode is GenerationMode.POSITIVE and reply.status_code >= 400:
            code, message = tuple(reply.json().values())
            assert reply.status_code == 400 and ((code, message) in CONTENT_FAILURES or (  # random bytes Pillow takes for
                code == "BadRequestImageFormat" and message.endswith(OTHER_FORMAT))), reply.text  # another format's header

    try:
        check()
    except Unsatisfiable:  # nothing invalid to send to an operation without parameters or body
        assert mode is GenerationMode.NEGATIVE and not operation.body, operation.label


def test_the_service_answers_as_its_openapi_document_says(service: Service) -> None:
    """schemathesis against the served /openapi.json, all checks (no 5xx; documented statuses, headers,
    bodies and content types; undocumented requests refused; documented ones accepted, see _fuzz):
    POSITIVE_EXAMPLES + NEGATIVE_EXAMPLES generated requests per operation. (schemathesis' pytest
    plugin loads a served schema through a lazy fixture that fails under pytest 9, hence @given.)"""
    schema = schemathesis.openapi.from_url(f"{service.base}/openapi.json")
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            _fuzz(result.ok(), mode, examples, service.base, statuses)
    print(f"schemathesis: {sum(statuses.values())} requests, by status {dict(statuses)}")
    assert 5 * POSITIVE_EXAMPLES < sum(statuses.values()) and not any(status >= 500 for status in statuses)


def localhost_certificate(folder: Path) -> Path:
    """A self-signed certificate for the name "localhost" only (no address), made here, with its key: one PEM."""
    key, cert = folder / "localhost.key", folder / "localhost.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    pem = folder / "localhost.pem"
    pem.write_text(cert.read_text() + key.read_text())
    return pem


def test_https_goes_to_the_checked_address_and_verifies_the_host_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection is made to the address the guard checked, and TLS still verifies the certificate
    against the URL's host name (SNI too); a certificate for another name is refused."""
    pem = localhost_certificate(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(IMAGES)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(fetching, "TLS", ssl.create_default_context(cafile=str(pem)))  # trust the test certificate
    port = server.server_address[1]
    try:
        data = bytearray()
        fetching.fetch(f"https://localhost:{port}/banana2.jpg", 5, MAX_IMAGE_BYTES, data.extend,
                       guard=fetching.AddressGuard(["localhost"]))
        assert bytes(data) == (IMAGES / "banana2.jpg").read_bytes()
        with pytest.raises(fetching.FetchError) as failed:
            fetching.fetch(f"https://127.0.0.1:{port}/banana2.jpg", 5, MAX_IMAGE_BYTES, bytearray().extend)
        assert isinstance(failed.value.__cause__, ssl.SSLCertVerificationError)
    finally:
        server.shutdown()
        server.server_close()


def test_bytes_too_short_for_a_formats_header_check_are_refused_with_a_reason(service: Service) -> None:
    """Found by schemathesis: a 1-byte body made a format's header check (BMP's DIB) raise; now 400 undecodable."""
    for body in (b"0", b"\x28", b"BM", b"\x00\x00\x01"):
        reply = service.request("/image", body)
        assert (reply.status, tuple(reply.json().values())) == (400, CONTENT_FAILURES_IMAGE), body
