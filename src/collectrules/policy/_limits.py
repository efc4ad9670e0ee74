"""durable_rules' measured limits, checked before durable is ever called.

See DURABLE_RULES.md #3–#5. The engine compiles each layer into its own stage fact, so
only one layer's rules (and its resolver) can match one fact at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectrules.errors import EngineLimitError

if TYPE_CHECKING:
    from collectrules.policy import Policy

__all__ = ["MAX_MATCHES_AT_ONCE", "MAX_PROPERTIES", "MAX_TOP_LEVEL_RULES", "check_policy"]

#: durable_rules fails with error 303 when more than 64 rules match one fact at once.
MAX_MATCHES_AT_ONCE = 64
#: durable_rules hangs for ever at 512 top-level conditions; stay well clear of it.
MAX_TOP_LEVEL_RULES = 480
#: durable_rules fails with error 302 past about 253 properties in one message.
MAX_PROPERTIES = 240
#: Properties the engine adds to every fact: type tag, message id, session id.
ENGINE_PROPERTIES = 3


def check_policy(policy: Policy) -> None:
    """Raise :class:`EngineLimitError` if the compiled policy would break a limit."""
    stages = [(layer.id, len(layer.rules)) for layer in policy.layers]
    stages.append(("remedies", len(policy.remedy_rules)))
    for stage, count in stages:
        # Each stage also has its resolver rule, which matches the same fact.
        if count + 1 > MAX_MATCHES_AT_ONCE:
            msg = (
                f"policy {policy.id!r}: stage {stage!r} has {count} rules; durable_rules fails "
                f"when more than {MAX_MATCHES_AT_ONCE} rules match one fact at once "
                f"(DURABLE_RULES.md #4), so a stage may hold at most "
                f"{MAX_MATCHES_AT_ONCE - 1} rules; split it into layers"
            )
            raise EngineLimitError(
                msg, limit="matches at once", value=count + 1, maximum=MAX_MATCHES_AT_ONCE
            )
    total = sum(count + 1 for _, count in stages)
    if total > MAX_TOP_LEVEL_RULES:
        msg = (
            f"policy {policy.id!r} compiles to {total} rules; durable_rules hangs at 512 "
            f"top-level conditions (DURABLE_RULES.md #3), and collectrules refuses more than "
            f"{MAX_TOP_LEVEL_RULES}"
        )
        raise EngineLimitError(
            msg, limit="top-level rules", value=total, maximum=MAX_TOP_LEVEL_RULES
        )
    properties = len(policy.schema()) + ENGINE_PROPERTIES
    if properties > MAX_PROPERTIES:
        msg = (
            f"policy {policy.id!r} needs {properties} properties per fact; durable_rules fails "
            f"past about 253 (DURABLE_RULES.md #5), and collectrules refuses more than "
            f"{MAX_PROPERTIES}; use fewer signal kinds or fields"
        )
        raise EngineLimitError(
            msg, limit="properties per fact", value=properties, maximum=MAX_PROPERTIES
        )
