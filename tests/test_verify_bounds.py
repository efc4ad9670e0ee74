"""The verifier's work is bounded on a policy whose outcomes multiply.

A ``collect_sum`` layer whose rules score 1, 2, 4 … on different signal kinds has a
running score for every subset of its rules: 2**25 outcomes for 25 rules. The search
counted its steps, but not the outcomes each step carried nor the situations that took
them to the next layer, so ``verify`` (and ``collectrules check``) on such a policy of
a few dozen lines ran for more than ten minutes and gigabytes of memory. It now gives up
with an ``unverified`` warning, as it does past its step budget. Each run is a
subprocess with a timeout, since the unbounded search cannot be interrupted otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from collectrules import load_policy

#: Counted signal kinds of the default policy, one per rule.
_KINDS = [kind for kind, spec in load_policy("default").signals.items() if not spec.measured]


def _scored_policy(rules: int) -> str:
    """A policy extending the default with a ``collect_sum`` layer of ``rules`` rules,
    each on its own signal kind, scored ±1, 2, 4 …: every subset sums to its own score."""
    text = textwrap.dedent(
        """\
        extends = "default"
        id = "scored-subsets"
        version = "1"

        [[layers]]
        id = "scored"
        output = "scored"
        values = ["low", "middle", "high"]
        cites = ["W-SIGNS"]
        hit_policy = "collect_sum"
        default = "middle"
        bands = [
            { min = -100000000, value = "low" },
            { min = 0, value = "middle" },
            { min = 2, value = "high" },
        ]
        """
    )
    for i, kind in enumerate(_KINDS[:rules]):
        score = 2**i if i % 2 else -(2**i)
        text += textwrap.dedent(
            f"""
            [[layers.rules]]
            id = "S-{i}"
            when = "{kind} >= 1"
            score = {score}
            reason = "A weight of this policy's own."
            cites = ["W-SIGNS"]
            chosen = true
            doc = "The weight is this policy's."
            """
        )
    return text


_RUNNER = textwrap.dedent(
    """\
    import json, resource, sys, time
    from collectrules.authoring.verify import verify
    started = time.process_time()
    report = verify(sys.argv[1])
    print(json.dumps({{
        "cpu": time.process_time() - started,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "findings": [[f.kind.value, f.message] for f in report.findings],
    }}))
    """
)


def test_a_policy_whose_outcomes_multiply_is_verified_in_bounded_time(tmp_path: Path) -> None:
    path = tmp_path / "scored.toml"
    path.write_text(_scored_policy(len(_KINDS)), encoding="utf-8")
    load_policy(path)  # a valid policy
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER.format(), str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["cpu"] < 120, result["cpu"]
    assert result["peak_mib"] < 2048, result["peak_mib"]
    past = [m for kind, m in result["findings"] if kind == "unverified" and "went past" in m]
    assert past, result["findings"]
    assert "situations reaching one layer" in past[0] or "ways through the layers" in past[0]
