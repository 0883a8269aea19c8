"""etl.quality.soda_internals, pinned to the installed Soda: an upgrade fails here, loudly.

Each test checks that a private attribute we rely on still exists and still means what
etl/quality/soda_internals.py assumes. When one fails after an upgrade, read the new
Soda's source for the attribute, adjust soda_internals.py, then SODA_CORE_VERSION.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from types import SimpleNamespace

from etl.quality import soda_internals


def test_the_installed_soda_is_the_one_the_internals_were_read_from():
    assert importlib.metadata.version("soda-core") == soda_internals.SODA_CORE_VERSION == "3.5.6"


def test_telemetry_is_switched_off_through_its_private_flag():
    from soda.telemetry.soda_telemetry import SodaTelemetry

    telemetry = SodaTelemetry.get_instance()
    assert hasattr(telemetry, "_SodaTelemetry__send")
    # The flag is what every sending method consults.
    assert inspect.getsource(SodaTelemetry).count("if self.__send:") >= 1
    previous = telemetry._SodaTelemetry__send
    try:
        telemetry._SodaTelemetry__send = True
        soda_internals.silence_telemetry()
        assert telemetry._SodaTelemetry__send is False
    finally:
        telemetry._SodaTelemetry__send = previous


def test_a_scans_checks_are_its_private_list():
    from soda.execution.check_outcome import CheckOutcome
    from soda.scan import Scan

    scan = Scan()
    assert scan._checks == []
    failing = SimpleNamespace(outcome=CheckOutcome.FAIL)
    passing = SimpleNamespace(outcome=CheckOutcome.PASS)
    scan._checks.extend([failing, passing])
    # The public getters read the same list, so it holds every check of the scan.
    assert scan.get_checks_fail() == [failing]
    assert soda_internals.scan_checks(scan) == [failing, passing]


def test_a_scans_connections_are_closed_through_its_data_source_manager():
    from soda.execution.data_source import DataSource
    from soda.execution.data_source_manager import DataSourceManager
    from soda.scan import Scan

    assert "self.data_sources[data_source_name] = data_source" in inspect.getsource(
        DataSourceManager)
    assert callable(DataSource.disconnect)
    scan = Scan()
    closed = []
    scan._data_source_manager.data_sources["video_analytics"] = SimpleNamespace(
        disconnect=lambda: closed.append("video_analytics"))
    soda_internals.close_connections(scan)
    assert closed == ["video_analytics"]
