"""Test isolation shared by every test.

* Each test gets its own GENAICOMPARE_HOME (data, config, cache) — nothing touches the user's dirs.
* The suite is offline: a socket guard fails any connection that is not to the loopback range or a
  Unix socket, and hub / cost-map downloads are switched off.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


class OfflineViolation(RuntimeError):
    pass


def _is_local(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise OfflineViolation(f"test tried to connect to {address!r}: the suite is offline")
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise OfflineViolation(f"test tried to connect to {address!r}: the suite is offline")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("gchome")
    monkeypatch.setenv("GENAICOMPARE_HOME", str(home))
    monkeypatch.delenv("GENAICOMPARE_DB", raising=False)
    monkeypatch.delenv("GENAICOMPARE_RATER", raising=False)
    return home
