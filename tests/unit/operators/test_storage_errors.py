"""A full, read-only or forbidden disk fails the task with the path and the fix, never a raw OSError."""

from __future__ import annotations

import errno
import os

import pytest

from airflow_provider_gtm.compat import AirflowException, AirflowFailException
from airflow_provider_gtm.operators.errors import airflow_errors


@pytest.mark.parametrize(("code", "problem", "fix"), [
    (errno.ENOSPC, "the disk is full", "free space on that volume"),
    (errno.EROFS, "the file system is read-only", "at a writable location"),
    (errno.EACCES, "permission denied", "give the worker's user write access there"),
])
def test_storage_errors_name_the_path_and_the_fix(code, problem, fix):
    with pytest.raises(AirflowFailException) as caught, airflow_errors("Fetching octy profiles"):
        raise OSError(code, os.strerror(code), "/data/gtm/run/out.jsonl")
    text = str(caught.value)
    assert text.startswith("Fetching octy profiles: cannot write '/data/gtm/run/out.jsonl': " + problem)
    assert fix in text and "output_uri" in text and "clear the task" in text
    assert isinstance(caught.value.__cause__, OSError)


def test_a_storage_error_without_a_path_still_says_what_and_how():
    with pytest.raises(AirflowFailException, match=r"cannot write the task's output or ledger files: the disk is full"):
        with airflow_errors("Sending"):
            raise OSError(errno.ENOSPC, "No space left on device")


def test_a_real_full_disk():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with pytest.raises(AirflowFailException, match=r"Fetching: cannot write .*: the disk is full"), \
            airflow_errors("Fetching"), open("/dev/full", "w") as full:
        full.write("{}\n")
        full.flush()


def test_a_real_read_only_folder(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(AirflowFailException, match=r"permission denied.*write access"), airflow_errors("Fetching"):
            (tmp_path / "out.jsonl").write_text("{}")
    finally:
        tmp_path.chmod(0o700)


@pytest.mark.parametrize("error", [OSError(errno.ECONNRESET, "reset"), FileNotFoundError(2, "gone", "/x"),
                                   OSError("no errno")])
def test_other_os_errors_pass_through_unchanged(error):
    with pytest.raises(type(error)) as caught, airflow_errors("Fetching"):
        raise error
    assert caught.value is error and not isinstance(caught.value, AirflowException)
