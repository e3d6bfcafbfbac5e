"""commands._common: the argparse ``type=`` checks — a bad value is a usage error naming the
option (exit code 2), before any work starts."""

from __future__ import annotations

import argparse

import pytest

from genaicompare.commands._common import (
    int_between,
    iso_date,
    non_negative_int,
    positive_int,
    positive_seconds,
)


def _parser(kind: object) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genaicompare")
    parser.add_argument("--opt", type=kind)  # type: ignore[call-overload]
    return parser


@pytest.mark.parametrize("text", ["-1", "nan", "NaN", "inf", "-inf", "0", "0.0", "soon", ""])
def test_positive_seconds_refuses(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_seconds(text)


@pytest.mark.parametrize(("text", "value"), [("30", 30.0), ("0.5", 0.5), (" 2e1 ", 20.0)])
def test_positive_seconds_accepts(text: str, value: float) -> None:
    assert positive_seconds(text) == value


def test_whole_numbers() -> None:
    assert non_negative_int("0") == 0 and non_negative_int("7") == 7
    assert positive_int("1") == 1
    for bad in ("-1", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            non_negative_int(bad)
    for bad in ("0", "-3"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(bad)
    prefetch = int_between(0, 10)
    assert prefetch("0") == 0 and prefetch("10") == 10
    for bad in ("-1", "11", "two"):
        with pytest.raises(argparse.ArgumentTypeError):
            prefetch(bad)


def test_iso_date_keeps_dates_and_normalises_timestamps_to_the_stored_form() -> None:
    assert iso_date("2026-01-31") == "2026-01-31"
    assert iso_date("20260131") == "2026-01-31"
    assert iso_date("2026-01-31T12:00") == "2026-01-31T12:00:00.000+00:00"
    assert iso_date("2026-01-31T12:00Z") == "2026-01-31T12:00:00.000+00:00"
    assert iso_date("2026-01-31T14:00+02:00") == "2026-01-31T12:00:00.000+00:00"
    for bad in ("garbage", "2026-13-01", "31/01/2026", "yesterday", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            iso_date(bad)


def test_a_bad_value_is_an_argparse_usage_error_naming_the_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        _parser(positive_seconds).parse_args(["--opt", "nan"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert (
        "genaicompare: error: argument --opt: must be a number of seconds above 0, got 'nan'" in err
    )
