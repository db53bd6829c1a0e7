"""Backup downloads (herokupg.download) through the API client over real sockets: redirects,
resuming a body that broke off, failures, what is kept, proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_servers import RANGED, OriginServer, ProxyServer, serving

from herokupg.client import HerokuClient
from herokupg.download import DownloadError, download

KEY = "hrku-download-0b5f3a9e-key-never-sent"


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    with serving(OriginServer()) as server:
        yield server


@pytest.fixture
def client() -> Iterator[HerokuClient]:
    """The API client a backup operation downloads through (its key must never reach storage)."""
    with HerokuClient(KEY, api_url="http://127.0.0.1:1", timeout=10, env={}) as made:
        yield made


def test_redirects_are_followed_without_any_credential(
    origin: OriginServer, client: HerokuClient, tmp_path: Path
) -> None:
    with serving(OriginServer()) as storage:
        dest = tmp_path / "b001.dump"
        got = download(client, f"{origin.url}/redirect/302?to={storage.url}/json", dest, expected_size=None)
        (fetched,) = storage.recorder.requests
    assert dest.read_bytes() == b'{"path": "/json", "connection": 1}' and got.size == dest.stat().st_size
    assert "Authorization" not in fetched.headers and fetched.headers["Accept-Encoding"] == "identity"
    assert fetched.headers["User-Agent"] == client.user_agent and KEY not in str(fetched.headers)
    assert dest.stat().st_mode & 0o777 == 0o600
    assert got.validated is False  # not a pg_dump archive: only the size was checked


def test_a_body_that_breaks_off_is_resumed_with_range(
    origin: OriginServer, client: HerokuClient, tmp_path: Path
) -> None:
    dest = tmp_path / "b001.dump"
    got = download(client, f"{origin.url}/ranged", dest, expected_size=len(RANGED))
    assert dest.read_bytes() == RANGED and got.size == len(RANGED)
    whole, rest = origin.recorder.requests
    assert "Range" not in whole.headers
    assert rest.headers["Range"] == "bytes=100000-" and rest.headers["If-Range"] == '"ranged-v1"'
    assert list(tmp_path.iterdir()) == [dest]


def test_no_resume_left_means_truncated(origin: OriginServer, client: HerokuClient, tmp_path: Path) -> None:
    dest = tmp_path / "b001.dump"
    announced = f"truncated: got 100000 bytes, the server announced {len(RANGED)}"
    with pytest.raises(DownloadError, match=announced):
        download(client, f"{origin.url}/ranged", dest, expected_size=None, resumes=0)
    assert list(tmp_path.iterdir()) == []


def test_a_short_body_without_ranges_fails_and_leaves_nothing(
    origin: OriginServer, client: HerokuClient, tmp_path: Path
) -> None:
    dest = tmp_path / "b001.dump"
    with pytest.raises(DownloadError, match="truncated: got 10 bytes, the server announced 100"):
        download(client, f"{origin.url}/truncated", dest, expected_size=None)
    assert list(tmp_path.iterdir()) == [] and len(origin.recorder.requests) == 1  # not resumable


def test_size_must_match_the_backup(origin: OriginServer, client: HerokuClient, tmp_path: Path) -> None:
    dest = tmp_path / "b001.dump"
    with pytest.raises(DownloadError, match="has 34 bytes but the backup has 35"):
        download(client, f"{origin.url}/json", dest, expected_size=35)
    assert list(tmp_path.iterdir()) == []


def test_http_errors_and_refused_connections_name_the_url_without_its_signature(
    origin: OriginServer, client: HerokuClient, tmp_path: Path
) -> None:
    dest = tmp_path / "b001.dump"
    with pytest.raises(DownloadError) as info:
        download(client, f"{origin.url}/redirect/418?to=/json&signature=s3cr3t-sig", dest, expected_size=None)
    assert "HTTP 418" in str(info.value) and "s3cr3t-sig" not in str(info.value)
    origin.shutdown()
    origin.server_close()
    with pytest.raises(DownloadError, match="ConnectError"):
        download(client, f"{origin.url}/json", dest, expected_size=None)
    assert list(tmp_path.iterdir()) == []


def test_downloads_go_through_the_clients_proxy(
    origin: OriginServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One place for proxies: the download uses the API client's connection settings."""
    with serving(ProxyServer()) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with HerokuClient(KEY, api_url="http://127.0.0.1:1", env={}) as client:
            url = f"{origin.url}/json?signature=s3cr3t-sig"
            got = download(client, url, tmp_path / "b.dump", expected_size=None)
        (relayed,) = proxy.recorder.requests
    assert relayed.target == f"{origin.url}/json?signature=s3cr3t-sig" and got.size == 34
    assert "Authorization" not in relayed.headers
