"""Every use of a private Soda attribute, in one place.

Soda Core 3.5 has no public way to (1) switch its usage statistics off once another
import initialised them, (2) get the check objects of a scan (the public getters
return only failing ones, or text), or (3) close the connections it leaves open. We
rely on these attributes of the version in `SODA_CORE_VERSION`; the unit test
`tests/unit/test_quality_soda_internals.py` checks that version and that each
attribute is still there and behaves as used here, so an upgrade fails there, loudly,
not somewhere in a scan.
"""

from __future__ import annotations

# The soda-core release these attributes were read from.
SODA_CORE_VERSION = "3.5.6"


def silence_telemetry() -> None:
    """Stop Soda sending usage statistics even when another import initialised it first
    (from ~/.soda) before our offline settings file could."""
    from soda.telemetry.soda_telemetry import SodaTelemetry

    SodaTelemetry.get_instance()._SodaTelemetry__send = False


def scan_checks(scan) -> list:
    """Every check object of an executed scan (evaluated or not), in definition order."""
    return list(scan._checks)


def close_connections(scan) -> None:
    """Close the scan's data-source connections.

    Soda 3.5 leaves them open and idle in transaction, holding locks that block the
    next transform's DDL.
    """
    for data_source in scan._data_source_manager.data_sources.values():
        data_source.disconnect()
