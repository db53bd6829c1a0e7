"""Backup downloads (herokupg.download) through httpx over real sockets: redirects, resuming a
body that broke off, failures, what is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from local_servers import RANGED, OriginServer, serving

from herokupg.download import DownloadError, download


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    with serving(OriginServer()) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # a HerokuClient's httpx.Client carries no credentials; this one neither
    with httpx.Client(timeout=10, trust_env=False) as client:
        yield client


def test_redirects_are_followed_without_any_credential(
    origin: OriginServer, http: httpx.Client, tmp_path: Path
) -> None:
    with serving(OriginServer()) as storage:
        dest = tmp_path / "b001.dump"
        got = download(http, f"{origin.url}/redirect/302?to={storage.url}/json", dest, expected_size=None)
        (fetched,) = storage.recorder.requests
    assert dest.read_bytes() == b'{"path": "/json", "connection": 1}' and got.size == dest.stat().st_size
    assert "Authorization" not in fetched.headers and fetched.headers["Accept-Encoding"] == "identity"
    assert dest.stat().st_mode & 0o777 == 0o600
    assert got.validated is False  # not a pg_dump archive: only the size was checked


def test_a_body_that_breaks_off_is_resumed_with_range(
    origin: OriginServer, http: httpx.Client, tmp_path: Path
) -> None:
    dest = tmp_path / "b001.dump"
    got = download(http, f"{origin.url}/ranged", dest, expected_size=len(RANGED))
    assert dest.read_bytes() == RANGED and got.size == len(RANGED)
    whole, rest = origin.recorder.requests
    assert "Range" not in whole.headers
    assert rest.headers["Range"] == "bytes=100000-" and rest.headers["If-Range"] == '"ranged-v1"'
    assert list(tmp_path.iterdir()) == [dest]


def test_no_resume_left_means_truncated(origin: OriginServer, http: httpx.Client, tmp_path: Path) -> None:
    dest = tmp_path / "b001.dump"
    announced = f"truncated: got 100000 bytes, the server announced {len(RANGED)}"
    with pytest.raises(DownloadError, match=announced):
        download(http, f"{origin.url}/ranged", dest, expected_size=None, resumes=0)
    assert list(tmp_path.iterdir()) == []


def test_a_short_body_without_ranges_fails_and_leaves_nothing(
    origin: OriginServer, http: httpx.Client, tmp_path: Path
) -> None:
    dest = tmp_path / "b001.dump"
    with pytest.raises(DownloadError, match="truncated: got 10 bytes, the server announced 100"):
        download(http, f"{origin.url}/truncated", dest, expected_size=None)
    assert list(tmp_path.iterdir()) == [] and len(origin.recorder.requests) == 1  # not resumable


def test_size_must_match_the_backup(origin: OriginServer, http: httpx.Client, tmp_path: Path) -> None:
    dest = tmp_path / "b001.dump"
    with pytest.raises(DownloadError, match="has 34 bytes but the backup has 35"):
        download(http, f"{origin.url}/json", dest, expected_size=35)
    assert list(tmp_path.iterdir()) == []


def test_http_errors_and_refused_connections_name_the_url_without_its_signature(
    origin: OriginServer, http: httpx.Client, tmp_path: Path
) -> None:
    dest = tmp_path / "b001.dump"
    with pytest.raises(DownloadError) as info:
        download(http, f"{origin.url}/redirect/418?to=/json&signature=s3cr3t-sig", dest, expected_size=None)
    assert "HTTP 418" in str(info.value) and "s3cr3t-sig" not in str(info.value)
    origin.shutdown()
    origin.server_close()
    with pytest.raises(DownloadError, match="ConnectError"):
        download(http, f"{origin.url}/json", dest, expected_size=None)
    assert list(tmp_path.iterdir()) == []
