"""The verifier's reports, computed once per test run and shared between xdist workers.

Verifying a shipped policy takes up to a quarter of a minute of CPU (cn_bank_loan about
16 s, cn_credit_card 18 s), and several tests read the same report; the session fixture
``verified`` (tests/conftest.py) hands out a :class:`VerifiedReports`.
"""

from __future__ import annotations

import fcntl
import hashlib
import pickle
import re
from collections.abc import Sequence
from pathlib import Path

from collectrules.authoring.verify import VerificationReport, verify

__all__ = ["VerifiedReports"]


class VerifiedReports:
    """``verify(target)`` with its default ``as_of``, computed once per test run.

    ``target`` is a shipped policy's name or a policy file. Under xdist the workers share
    a folder of the run: the first worker to need a report computes it, under a lock on
    that report alone, and writes it there; the others wait for it and read it. Without
    xdist the reports are only kept in memory. ``verify`` is deterministic (the same
    policy and ``as_of`` give the same report), so a report read back is the one the
    test would have computed.
    """

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder
        self._memory: dict[str, VerificationReport] = {}

    def __call__(self, target: str | Path) -> VerificationReport:
        """The report of one policy (waiting for another worker computing it)."""
        report = self._get(target, wait=True)
        assert report is not None  # waiting, it is always found or computed
        return report

    def many(self, targets: Sequence[str | Path]) -> dict[str | Path, VerificationReport]:
        """The reports of several policies: those no other worker is computing first, so
        that two workers asking for the same list share the work rather than queue."""
        done: dict[str | Path, VerificationReport] = {}
        for wait in (False, True):
            for target in targets:
                if target not in done:
                    report = self._get(target, wait=wait)
                    if report is not None:
                        done[target] = report
        return {t: done[t] for t in targets}

    def _get(self, target: str | Path, *, wait: bool) -> VerificationReport | None:
        key = str(target)
        if key in self._memory:
            return self._memory[key]
        if self._folder is None:
            report = self._memory[key] = verify(target)
            return report
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        name = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', key)[-60:]}-{digest}"
        path = self._folder / f"{name}.pickle"
        with (self._folder / f"{name}.lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                return None  # another worker is computing it
            if path.exists():
                report = pickle.loads(path.read_bytes())
            else:
                report = verify(target)
                partial = path.with_suffix(".partial")
                partial.write_bytes(pickle.dumps(report))
                partial.replace(path)  # whole or not at all, should a worker die
        assert isinstance(report, VerificationReport)
        self._memory[key] = report
        return report
