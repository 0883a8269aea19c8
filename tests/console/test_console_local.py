"""`medallion console up|down|status` starts a real Streamlit process and stops only it."""

import argparse

import pytest

from stack import console_local
from etl.errors import ServiceUnavailable
from stack.services import free_port, read_pid


def test_start_status_stop(medallion_db, capsys):
    port = free_port()
    url = console_local.start(medallion_db, port=port)
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert console_local.healthy(port)
        pid = read_pid(console_local.pid_file())
        assert pid is not None
        assert console_local.start(medallion_db, port=port) == url  # already running: same one
        assert read_pid(console_local.pid_file()) == pid
        assert console_local.status() == {"state": "up", "url": url, "pid": pid}
        assert console_local.main(argparse.Namespace(action="status")) == 0
        assert url in capsys.readouterr().out
    finally:
        assert console_local.stop()
    assert not console_local.healthy(port)
    assert console_local.status()["state"] == "down"
    assert console_local.main(argparse.Namespace(action="status")) == 1
    assert not console_local.stop()


def test_refuses_a_port_in_use(medallion_db):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ServiceUnavailable, match="CONSOLE_PORT"):
            console_local.start(medallion_db, port=busy.getsockname()[1])
    assert console_local.status()["state"] == "down"
