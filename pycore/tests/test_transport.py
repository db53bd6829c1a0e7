"""HerokuClient's httpx.Client over real sockets on 127.0.0.1: keep-alive (one connection per host,
idle connections the server closed), failures before and after sending, compressed answers,
redirects, TLS verification, proxies from the environment, and the log stream through it."""

from __future__ import annotations

import ast
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from herokupg_sandbox.threaded import free_port
from local_servers import OriginServer, ProxyServer, self_signed, serving, tls_server_context

from herokupg.client import HerokuClient
from herokupg.errors import ConnectionFailedError
from herokupg.slowlog.source import _stream, iter_sse_log_lines

KEY = "hrku-test-7c2e4a10-1b3d-4f5e-9a8b-0c1d2e3f4a5b"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx reads proxies from the process environment (trust_env): start each test without."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    with serving(OriginServer()) as server:
        yield server


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def client_for(url: str, **kwargs: object) -> HerokuClient:
    kwargs.setdefault("env", {})
    kwargs.setdefault("sleep", Sleeps())
    return HerokuClient(KEY, api_url=url, **kwargs)  # type: ignore[arg-type]


# -- keep-alive --------------------------------------------------------------------------------


def test_both_apis_share_one_kept_alive_connection(origin: OriginServer) -> None:
    with client_for(origin.url, data_api_url=origin.url) as client:
        assert client.get("/json") == {"path": "/json", "connection": 1}
        client.post("/json", json={"name": "é"})
        client.get("/json", api="data", params={"a": "1 2"})
    assert origin.recorder.connections == 1
    get, post, query = origin.recorder.requests
    assert get.headers["Authorization"] == f"Bearer {KEY}"
    assert get.headers["Host"] == origin.url.split("//")[1]
    assert "gzip" in get.headers["Accept-Encoding"]
    assert json.loads(post.body) == {"name": "é"} and post.headers["Content-Type"] == "application/json"
    assert query.target == "/json?a=1+2"


def test_a_connection_the_server_closed_while_idle_is_replaced_before_sending(origin: OriginServer) -> None:
    with client_for(origin.url, retries=0) as client:
        client.get("/idle-close")
        time.sleep(0.2)  # the server has closed it meanwhile, as at the end of an idle timeout
        # retries=0: reusing the dead connection would fail this POST
        assert client.post("/json", json={}) == {"path": "/json", "connection": 2}
    assert origin.recorder.connections == 2 and client.request_count == 2


def test_gzip_answers_are_decoded(origin: OriginServer) -> None:
    with client_for(origin.url) as client:
        assert client.get("/gzip") == {"path": "/gzip", "connection": 1}


def test_one_httpx_client_made_on_first_use_with_the_settings_given() -> None:
    client = HerokuClient(KEY, validate_certs=False, timeout=12.5, env={})
    assert client._http is None  # constructing a client costs no TLS set-up
    http = client.http
    assert http is client.http and http.timeout == httpx.Timeout(12.5)
    assert http.trust_env and "Authorization" not in http.headers  # the key goes per API request
    client.close()
    assert client._http is None


# -- failures: before or after sending ---------------------------------------------------------


def test_refused_connection_never_reached_the_server_so_a_post_is_retried() -> None:
    sleeps = Sleeps()
    with client_for(f"http://127.0.0.1:{free_port()}", retries=2, sleep=sleeps) as client:
        with pytest.raises(ConnectionFailedError) as info:
            client.post("/apps/x/addons", json={"plan": "p"})
    assert client.request_count == 3 and len(sleeps) == 2
    assert info.value.may_have_applied is False
    assert "ConnectError" in str(info.value) and "never reached the server" in str(info.value)


def test_no_answer_after_sending_is_not_repeated_for_a_post(origin: OriginServer) -> None:
    with client_for(origin.url, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
        client.post("/drop", json={})
    assert client.request_count == 1 and len(origin.recorder.requests) == 1
    assert info.value.may_have_applied is True
    assert "RemoteProtocolError" in str(info.value)


def test_read_timeout_is_retried_for_a_get_only(origin: OriginServer) -> None:
    with client_for(origin.url, retries=1, timeout=0.2) as client:
        with pytest.raises(ConnectionFailedError) as info:
            client.get("/slow")
        assert client.request_count == 2
        assert "ReadTimeout" in str(info.value) and info.value.may_have_applied is False  # a read
        with pytest.raises(ConnectionFailedError) as info:
            client.post("/slow", json={})
        assert client.request_count == 3 and info.value.may_have_applied is True


# -- redirects ---------------------------------------------------------------------------------


def test_same_origin_redirect_keeps_the_key(origin: OriginServer) -> None:
    with client_for(origin.url) as client:
        assert client.get("/redirect/307?to=/json") == {"path": "/json", "connection": 1}
        client.post("/redirect/303?to=/json", json={"x": 1})
    first, followed, posted, fetched = origin.recorder.requests
    assert first.target == "/redirect/307?to=/json"
    assert followed.headers["Authorization"] == f"Bearer {KEY}"
    assert (posted.method, fetched.method, fetched.body) == ("POST", "GET", b"")  # 303: GET, no body
    assert client.request_count == 2  # one API request each, however many hops


def test_cross_origin_redirect_drops_the_key(origin: OriginServer) -> None:
    with serving(OriginServer()) as other, client_for(origin.url) as client:
        assert client.get(f"/redirect/302?to={other.url}/json") == {"path": "/json", "connection": 1}
        (elsewhere,) = other.recorder.requests
    assert "Authorization" not in elsewhere.headers
    assert origin.recorder.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_redirect_loops_end(origin: OriginServer) -> None:
    with client_for(origin.url) as client, pytest.raises(ConnectionFailedError) as info:
        client.get("/redirect/302")
    assert "TooManyRedirects" in str(info.value) and client.request_count == 1


def test_a_post_redirected_to_a_dead_host_reached_the_first_one(origin: OriginServer) -> None:
    # The refused connect is on the second hop: the POST itself was sent, so it is not repeated.
    dead = f"http://127.0.0.1:{free_port()}/json"
    with client_for(origin.url, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
        client.post(f"/redirect/307?to={dead}", json={})
    assert client.request_count == 1 and info.value.may_have_applied is True


def test_log_streams_follow_redirects_without_the_key(origin: OriginServer) -> None:
    with serving(OriginServer()) as other, client_for(origin.url) as client:
        url = f"{origin.url}/redirect/307?to={other.url}/events"
        with _stream(client, url, tail=False, timeout=5.0, user_agent="herokupg/test") as lines:
            assert list(iter_sse_log_lines(lines)) == ["line one", "line two", "line three"]
        (followed,) = other.recorder.requests
    assert followed.headers["Accept"] == "text/event-stream"
    assert "Authorization" not in followed.headers
    assert "Authorization" not in origin.recorder.requests[0].headers


def test_a_log_stream_that_cannot_be_read_never_shows_its_token() -> None:
    dead = f"http://127.0.0.1:{free_port()}/stream/s?tail=false&token=s3cr3t-log-token"
    with client_for("http://127.0.0.1:1") as client, pytest.raises(ConnectionFailedError) as info:
        with _stream(client, dead, tail=False, timeout=5.0, user_agent="herokupg/test"):
            pass
    text = str(info.value)
    assert info.value.message.startswith("Could not read the log stream (http://127.0.0.1:")
    assert "ConnectError" in text and "s3cr3t-log-token" not in text and info.value.may_have_applied is False


def test_only_the_client_makes_http_connections() -> None:
    """Operations, downloads and log streams go through HerokuClient: one place for proxies,
    certificates, timeouts and redaction."""
    package = Path(__import__("herokupg").__file__).parent

    def imports_httpx(path: Path) -> bool:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "httpx" for name in names):
                return True
        return False

    users = [path.relative_to(package) for path in package.rglob("*.py") if "sandbox" not in path.parts]
    assert [str(path) for path in users if imports_httpx(package / path)] == ["client.py"]


# -- TLS ---------------------------------------------------------------------------------------


def test_https_verifies_the_certificate_and_says_how_to_trust_one(
    tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tls_files
    with serving(OriginServer(tls=tls_server_context(cert, key))) as server:
        with client_for(server.url, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
            client.get("/json")
        assert client.request_count == 1  # not retried: repeating cannot fix a certificate
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) and "SSL_CERT_FILE" in str(info.value)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx reads it (trust_env)
        with client_for(server.url) as client:
            assert client.get("/json")["path"] == "/json"
        monkeypatch.delenv("SSL_CERT_FILE")
        with client_for(server.url, validate_certs=False) as client:
            assert client.get("/json")["path"] == "/json"


# -- proxies -----------------------------------------------------------------------------------


def test_http_proxy_gets_absolute_urls_and_its_credentials(
    origin: OriginServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(ProxyServer()) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://user:p%40ss@"))
        with client_for(origin.url) as client:
            assert client.get("/json")["path"] == "/json"
        (relayed,) = proxy.recorder.requests
    assert relayed.target == origin.url + "/json"
    assert relayed.headers["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert origin.recorder.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_https_goes_through_a_connect_tunnel(
    tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = tls_files
    with serving(OriginServer(tls=tls_server_context(cert, key))) as server, serving(ProxyServer()) as proxy:
        monkeypatch.setenv("https_proxy", proxy.url.replace("http://", "http://me:secret@"))
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with client_for(server.url) as client:
            assert client.get("/json")["path"] == "/json"
            assert client.get("/json")["path"] == "/json"
        (tunnel,) = proxy.recorder.requests
    assert tunnel.method == "CONNECT" and tunnel.target == server.url.split("//")[1]
    assert tunnel.headers["Proxy-Authorization"] == "Basic bWU6c2VjcmV0"
    assert server.recorder.connections == 1 and len(server.recorder.requests) == 2


def test_no_proxy_hosts_are_reached_directly(origin: OriginServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(ProxyServer()) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("NO_PROXY", "example.com, 127.0.0.1")
        with client_for(origin.url) as client:
            client.get("/json")
        assert proxy.recorder.requests == []
    assert len(origin.recorder.requests) == 1


def test_a_proxy_we_cannot_use_is_an_error_that_names_the_setting(
    origin: OriginServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", "ftp://user:hunter2@127.0.0.1:1080")
    with client_for(origin.url, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
        client.get("/json")
    assert origin.recorder.requests == [] and info.value.may_have_applied is False
    text = str(info.value)
    assert "ALL_PROXY" in text and "http:// or https:// proxy" in text and "hunter2" not in text


# -- logs --------------------------------------------------------------------------------------


def test_httpx_request_logs_are_redacted(origin: OriginServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    with client_for(origin.url) as client:
        client.get("/json", params={"signature": "s3cr3t-signature-value"})
    assert "HTTP Request: GET" in caplog.text and "s3cr3t-signature-value" not in caplog.text
