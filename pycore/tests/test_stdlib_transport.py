"""The default transport (http.client) and the client's redirects, over real sockets on 127.0.0.1:
keep-alive, idle connections the server closed, failures before and after sending, compressed
answers, TLS verification, and proxies from the environment."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wire_servers import OriginServer, ProxyServer, self_signed, serving, tls_server_context

from herokupg.client import HerokuClient
from herokupg.errors import ConnectionFailedError
from herokupg.sandbox.testing import free_port
from herokupg.stdlib_transport import StdlibTransport, _bypassed
from herokupg.wire import Headers, Request, TransportError

KEY = "hrku-test-7c2e4a10-1b3d-4f5e-9a8b-0c1d2e3f4a5b"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


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


def test_requests_share_one_kept_alive_connection(origin: OriginServer) -> None:
    with client_for(origin.url) as client:
        assert client.get("/json") == {"path": "/json", "connection": 1}
        client.post("/json", json={"name": "é"})
        client.get("/json", params={"a": "1 2"})
    assert origin.recorder.connections == 1
    get, post, query = origin.recorder.requests
    assert get.headers["Authorization"] == f"Bearer {KEY}"
    assert get.headers["Host"] == origin.url.split("//")[1]
    assert get.headers["Accept-Encoding"] == "gzip, deflate"
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


# -- failures: before or after sending ---------------------------------------------------------


def test_refused_connection_never_reached_the_server_so_a_post_is_retried() -> None:
    sleeps = Sleeps()
    with client_for(f"http://127.0.0.1:{free_port()}", retries=2, sleep=sleeps) as client:
        with pytest.raises(ConnectionFailedError) as info:
            client.post("/apps/x/addons", json={"plan": "p"})
    assert client.request_count == 3 and len(sleeps) == 2
    assert info.value.may_have_applied is False
    assert "ConnectionRefusedError" in str(info.value) and "never reached the server" in str(info.value)


def test_no_answer_after_sending_is_not_repeated_for_a_post(origin: OriginServer) -> None:
    with client_for(origin.url, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
        client.post("/drop", json={})
    assert client.request_count == 1 and len(origin.recorder.requests) == 1
    assert info.value.may_have_applied is True
    assert "RemoteDisconnected" in str(info.value)


def test_read_timeout_is_retried_for_a_get_only(origin: OriginServer) -> None:
    with client_for(origin.url, retries=1, timeout=0.2) as client:
        with pytest.raises(ConnectionFailedError) as info:
            client.get("/slow")
        assert client.request_count == 2
        assert "TimeoutError" in str(info.value) and info.value.may_have_applied is False  # a read
        with pytest.raises(ConnectionFailedError) as info:
            client.post("/slow", json={})
        assert client.request_count == 3 and info.value.may_have_applied is True


def test_only_http_and_https_urls_are_sent() -> None:
    transport = StdlibTransport(env={})
    with pytest.raises(TransportError) as info:
        transport.handle(Request("GET", "ftp://127.0.0.1/x", Headers()), 1.0)
    assert info.value.not_sent and not info.value.retryable


# -- redirects (the client follows them, over any transport) -----------------------------------


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


def test_streams_follow_redirects_too(origin: OriginServer) -> None:
    # log streams and backup downloads read the body themselves (StdlibTransport.open_following)
    transport = StdlibTransport(env={})
    with serving(OriginServer()) as other:
        headers = Headers({"Accept": "text/event-stream"})
        response = transport.open_following(
            Request("GET", f"{origin.url}/redirect/307?to={other.url}/json", headers), 5.0, None
        )
        assert response.status == 200 and json.loads(response.read())["path"] == "/json"
        (followed,) = other.recorder.requests
        assert followed.headers["Accept"] == "text/event-stream"
        with pytest.raises(TransportError) as info:
            transport.open_following(Request("GET", f"{origin.url}/redirect/302", headers), 5.0, 5.0)
    assert info.value.kind == "TooManyRedirects" and not info.value.retryable
    transport.close()


# -- TLS ---------------------------------------------------------------------------------------


def test_https_verifies_the_certificate_and_says_how_to_trust_one(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    with serving(OriginServer(tls=tls_server_context(cert, key))) as server:
        with client_for(server.url, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
            client.get("/json")
        assert client.request_count == 1  # not retried: repeating cannot fix a certificate
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) and "SSL_CERT_FILE" in str(info.value)
        with client_for(server.url, env={"SSL_CERT_FILE": str(cert)}) as client:
            assert client.get("/json")["path"] == "/json"
        with client_for(server.url, validate_certs=False) as client:
            assert client.get("/json")["path"] == "/json"


def test_tls_is_set_up_only_for_https(origin: OriginServer) -> None:
    strict = StdlibTransport(verify=True, env={})
    strict.handle(Request("GET", origin.url + "/json", Headers()), 5.0)
    assert strict._context is None  # plain http: no CA bundle read
    assert strict.ssl_context().verify_mode == ssl.CERT_REQUIRED
    assert strict.ssl_context() is strict.ssl_context()
    strict.close()
    lax = StdlibTransport(verify=False, env={})
    assert lax.ssl_context().verify_mode == ssl.CERT_NONE and not lax.ssl_context().check_hostname


def test_timeout_and_validate_certs_reach_the_transport() -> None:
    client = HerokuClient(KEY, validate_certs=False, timeout=12.5, env={})
    transport = client._transport
    assert client.timeout == 12.5
    assert isinstance(transport, StdlibTransport) and transport.verify is False
    client.close()


# -- proxies -----------------------------------------------------------------------------------


def test_http_proxy_gets_absolute_urls_and_its_credentials(origin: OriginServer) -> None:
    with serving(ProxyServer()) as proxy:
        proxy_url = proxy.url.replace("http://", "http://user:p%40ss@")
        with client_for(origin.url, env={"HTTP_PROXY": proxy_url}) as client:
            assert client.get("/json")["path"] == "/json"
        (relayed,) = proxy.recorder.requests
    assert relayed.target == origin.url + "/json"
    assert relayed.headers["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert origin.recorder.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_https_goes_through_a_connect_tunnel(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    with serving(OriginServer(tls=tls_server_context(cert, key))) as server, serving(ProxyServer()) as proxy:
        env = {"https_proxy": proxy.url.replace("http://", "http://me:secret@"), "SSL_CERT_FILE": str(cert)}
        with client_for(server.url, env=env) as client:
            assert client.get("/json")["path"] == "/json"
            assert client.get("/json")["path"] == "/json"
        (tunnel,) = proxy.recorder.requests
    assert tunnel.method == "CONNECT" and tunnel.target == server.url.split("//")[1]
    assert tunnel.headers["Proxy-Authorization"] == "Basic bWU6c2VjcmV0"
    assert server.recorder.connections == 1 and len(server.recorder.requests) == 2


def test_no_proxy_hosts_are_reached_directly(origin: OriginServer) -> None:
    with serving(ProxyServer()) as proxy:
        env = {"http_proxy": proxy.url, "NO_PROXY": "example.com, 127.0.0.1"}
        with client_for(origin.url, env=env) as client:
            client.get("/json")
        assert proxy.recorder.requests == []
    assert len(origin.recorder.requests) == 1


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "api.heroku.com", 443, True),
        ("heroku.com", "api.heroku.com", 443, True),
        (".heroku.com", "api.heroku.com", 443, True),
        ("heroku.com", "notheroku.com", 443, False),
        ("api.heroku.com:8443", "api.heroku.com", 443, False),
        ("api.heroku.com:443", "api.heroku.com", 443, True),
        ("", "api.heroku.com", 443, False),
        ("[::1]", "::1", 80, True),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    assert _bypassed(no_proxy, host, port) is bypassed


def test_a_proxy_we_cannot_use_is_an_error_that_names_the_setting(origin: OriginServer) -> None:
    env = {"ALL_PROXY": "socks5://user:hunter2@127.0.0.1:1080"}
    with client_for(origin.url, env=env, retries=3) as client, pytest.raises(ConnectionFailedError) as info:
        client.get("/json")
    assert client.request_count == 1 and origin.recorder.requests == []
    text = str(info.value)
    assert "all_proxy" in text and "http:// proxy" in text and "hunter2" not in text
