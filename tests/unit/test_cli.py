"""The `medallion` CLI: every subcommand exists and has --help."""

import pytest

from etl.cli import build_parser, main

SUBCOMMANDS = ["services", "init", "generate", "ingest", "transform", "check", "run",
               "anomalies", "freshness", "diff", "airflow", "console", "up", "down", "status"]


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert "usage: medallion " + name in capsys.readouterr().out


def test_parser_lists_all_subcommands():
    help_text = build_parser().format_help()
    for name in SUBCOMMANDS:
        assert name in help_text
