"""Loading policies: files, text formats, composition, validation with file and line.

Every problem in a policy is reported together, each naming the file, the line where it
can be found, the rule id and the key path.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

from collectrules.conditions import (
    All,
    Always,
    AnyOf,
    Between,
    Compare,
    Condition,
    FieldSpec,
    FieldType,
    In,
    Not,
    Scalar,
    check,
    parse,
)
from collectrules.errors import ConditionError, FieldProblem, PolicyError, did_you_mean
from collectrules.model.remedies import Remedy
from collectrules.policy import _limits, composition
from collectrules.policy._tables import TableReader
from collectrules.policy.model import (
    SIGNAL_DIMENSIONS,
    ConflictRule,
    HitPolicy,
    Layer,
    LayerRule,
    Parameter,
    Policy,
    RemedyEffect,
    RemedyRule,
    SignalSpec,
    base_fields,
    signal_fields,
)
from collectrules.policy.section import Section, installed_sections, parse_sections

__all__ = ["FORMAT_VERSION", "available_policies", "load_policy", "policy_from_dict"]

# --------------------------------------------------------------------------- loading

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
# The core's keys; each installed section adds its own (timeline, regulation …).
_TOP_KEYS = {
    "id", "version", "title", "description", "notes", "extends", "parameters", "signals",
    "layers", "remedies", "disable", "schema_version",
}  # fmt: skip
#: The version of the policy format that this loader reads (``schema_version``).
FORMAT_VERSION = "1"
# The keys each table of a policy file accepts; collectrules.policy.schema generates the JSON
# Schema from these, so that the schema and the loader cannot drift apart.
_PARAMETER_KEYS = ("value", "doc", "cites", "chosen", "status")
_SIGNAL_KEYS = ("dimension", "polarity", "label_en", "label_zh", "cites", "chosen", "doc")
_LAYER_KEYS = (
    "id", "output", "values", "hit_policy", "default", "bands", "rules", "labels", "cites", "doc",
)  # fmt: skip
_LAYER_RULE_KEYS = (
    "id", "when", "value", "score", "priority", "reason", "cites", "presumed", "chosen", "doc",
)  # fmt: skip
_REMEDIES_KEYS = ("conflict", "rules")
_REMEDY_RULE_KEYS = (
    "id", "effect", "remedy", "remedies", "when", "reason", "conditions", "cites",
    "chosen", "doc",
)  # fmt: skip


_SUFFIXES = (".toml", ".yaml", ".yml", ".json")
_YAML_ITEM_ID = re.compile(r"""^\s*-\s*["']?id["']?\s*:""")


def available_policies() -> tuple[str, ...]:
    """The names of the policies shipped in the package."""
    folder = resources.files("collectrules") / "policies"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def _read_text(name_or_path: str | Path) -> tuple[str, str, Path | None]:
    """Return (text, source label, path) for a shipped name or a file path."""
    candidate = Path(name_or_path)
    text_name = str(name_or_path)
    if candidate.suffix.lower() in _SUFFIXES or candidate.exists():
        try:
            return candidate.read_text(encoding="utf-8"), str(candidate), candidate
        except OSError as exc:
            raise PolicyError(
                [FieldProblem("", f"cannot read policy file: {exc.strerror}", source=text_name)]
            ) from None
    if text_name in available_policies():
        res = resources.files("collectrules") / "policies" / f"{text_name}.toml"
        return res.read_text(encoding="utf-8"), f"<{text_name}>", None
    known = available_policies()
    msg = f"no shipped policy named {text_name!r} and no such file; shipped: {', '.join(known)}"
    raise PolicyError(
        [FieldProblem("", msg, source=text_name, suggestion=did_you_mean(text_name, known))]
    )


def _parse_text(text: str, source: str, path: Path | None) -> dict[str, Any]:
    suffix = path.suffix.lower() if path is not None else ".toml"
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            msg = "YAML policies need the 'yaml' extra: pip install 'collectrules[yaml]'"
            raise PolicyError([FieldProblem("", msg, source=source)]) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            col = f", column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            if isinstance(exc, yaml.constructor.ConstructorError):
                # safe_load builds plain data only: a !!python/… tag is refused here.
                problem = (
                    f"{problem}; a policy is plain data, and tags that build objects are refused"
                )
                what = "YAML tag refused"
            else:
                what = "YAML syntax error"
            raise PolicyError(
                [FieldProblem("", f"{what}{col}: {problem}", source=source, line=line)]
            ) from None
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(
                [
                    FieldProblem(
                        "",
                        f"JSON syntax error, column {exc.colno}: {exc.msg}",
                        source=source,
                        line=exc.lineno,
                    )
                ]
            ) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            m = re.search(r"\(at line (\d+), column (\d+)\)", message)
            line = int(m.group(1)) if m else None
            detail = message[: m.start()].strip() if m else message
            col = f", column {m.group(2)}" if m else ""
            raise PolicyError(
                [FieldProblem("", f"TOML syntax error{col}: {detail}", source=source, line=line)]
            ) from None
    if not isinstance(data, dict):
        raise PolicyError([FieldProblem("", "a policy must be a table of keys", source=source)])
    return data


def load_policy(
    name_or_path: str | Path = "default", *, sections: Sequence[Section] | None = None
) -> Policy:
    """Load a shipped policy by name (``"default"``) or a policy file by path.

    Every problem in the file is reported together in one :class:`PolicyError`.
    ``sections`` are the optional-section plug-ins to read it with; by default, the
    installed ones (:mod:`collectrules.sections`).
    """
    text, source, path = _read_text(name_or_path)
    data = _parse_text(text, source, path)
    base_dir = path.parent if path is not None else None
    return policy_from_dict(data, source=source, text=text, base_dir=base_dir, sections=sections)


def policy_from_dict(
    data: Mapping[str, Any],
    *,
    source: str | None = None,
    text: str | None = None,
    base_dir: Path | None = None,
    sections: Sequence[Section] | None = None,
    _chain: tuple[str, ...] = (),
) -> Policy:
    """Build a policy from plain data (as decoded from TOML), validating every part."""
    resolution = composition.resolve(
        data, source=source, base_dir=base_dir, chain=_chain, loader=_load_raw
    )
    plugins = installed_sections() if sections is None else tuple(sections)
    return _Loader(resolution, source=source, text=text, plugins=plugins).build()


def _looks_like_a_path(name: str) -> bool:
    return "/" in name or "\\" in name or Path(name).suffix.lower() in _SUFFIXES


def _load_raw(name_or_path: str, base_dir: Path | None) -> tuple[dict[str, Any], str, Path | None]:
    """Read the policy that ``extends`` names: a path relative to ``base_dir`` (the
    extending file's folder), or a shipped name."""
    target: str | Path = name_or_path
    if base_dir is not None and not Path(name_or_path).is_absolute():
        local = base_dir / name_or_path
        # A path is relative to the extending file, never to the working directory.
        if local.exists() or _looks_like_a_path(name_or_path):
            target = local
    text, source, path = _read_text(target)
    return _parse_text(text, source, path), source, path


class _Loader:
    def __init__(
        self,
        resolution: composition.Resolution,
        *,
        source: str | None,
        text: str | None,
        plugins: tuple[Section, ...] = (),
    ) -> None:
        self.plugins = plugins
        self.data = resolution.data
        self.source = source
        self.origins = resolution.origins
        self.sources = resolution.sources
        self.parameter_sources = resolution.parameter_sources
        self.problems: list[FieldProblem] = list(resolution.problems)
        self.texts: dict[str | None, list[str]] = {
            source: text.splitlines() if text is not None else []
        }
        self.reader = TableReader(self, {})

    # -- problem reporting

    def lines_of(self, source: str | None) -> list[str]:
        """The lines of a file of the ``extends`` chain (read again only on an error)."""
        if source not in self.texts:
            lines: list[str] = []
            if source is not None:
                name = source[1:-1] if source.startswith("<") else source
                try:
                    lines = _read_text(name if source.startswith("<") else Path(name))[
                        0
                    ].splitlines()
                except PolicyError:
                    lines = []
            self.texts[source] = lines
        return self.texts[source]

    def source_of(self, path: str, rule_id: str | None) -> str | None:
        """The file that holds the text a problem is about: a rule's or a parameter's
        own file when it came from a base policy, this file otherwise."""
        if rule_id is not None and rule_id in self.sources:
            return self.sources[rule_id]
        m = re.match(r"parameters\.([^.]+)", path)
        if m is not None and m.group(1) in self.parameter_sources:
            return self.parameter_sources[m.group(1)]
        return self.source

    def line_of(
        self, rule_id: str | None, key: str | None, source: str | None = None
    ) -> int | None:
        lines = self.lines_of(source if source is not None else self.source)
        if not lines:
            return None
        start = 0
        if rule_id is not None:
            # ``id = "R-1"`` in TOML, ``id: R-1`` or ``- id: "R-1"`` in YAML.
            pattern = re.compile(
                rf"""^\s*(?:-\s*)?["']?id["']?\s*[=:]\s*["']?{re.escape(rule_id)}["']?\s*,?\s*(?:#.*)?$"""
            )
            for i, line in enumerate(lines):
                if pattern.search(line):
                    start = i
                    break
            else:
                return None
        if key is None:
            return start + 1
        key_pat = re.compile(rf"""^\s*(?:-\s*)?["']?{re.escape(key)}["']?\s*[=:]""")
        for i in range(start, len(lines)):
            if i > start and rule_id is not None and _starts_another_table(lines[i]):
                break
            if key_pat.search(lines[i]):
                return i + 1
        return start + 1 if rule_id is not None else None

    def parameter_line(self, name: str, source: str | None) -> int | None:
        """The line that gives parameter ``name``: ``name = …``, ``[parameters.name]``."""
        lines = self.lines_of(source)
        esc = re.escape(name)
        patterns = (
            re.compile(rf"""^\s*\[\s*parameters\s*\.\s*["']?{esc}["']?\s*\]"""),
            re.compile(rf"""^\s*["']?{esc}["']?\s*[=:]"""),
        )
        for pattern in patterns:
            for i, line in enumerate(lines):
                if pattern.search(line):
                    return i + 1
        return None

    def fail(
        self,
        path: str,
        message: str,
        *,
        rule_id: str | None = None,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        source = self.source_of(path, rule_id)
        line = self.line_of(rule_id, key, source)
        m = re.match(r"parameters\.([^.]+)", path)
        if line is None and rule_id is None and m is not None:
            line = self.parameter_line(m.group(1), source)
        self.problems.append(
            FieldProblem(path, message, source=source, line=line, suggestion=suggestion)
        )

    # -- typed getters

    def get_str(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        default: str | None = None,
        rule_id: str | None = None,
    ) -> str:
        return self.reader.string(table, key, path, default=default, rule_id=rule_id)

    def get_strs(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None = None
    ) -> tuple[str, ...]:
        return self.reader.texts(table, key, path, rule_id)

    def check_keys(
        self,
        table: Mapping[str, Any],
        allowed: Iterable[str],
        path: str,
        rule_id: str | None = None,
    ) -> None:
        self.reader.keys(table, allowed, path, rule_id)

    def flag(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None = None
    ) -> bool:
        """``table[key]`` as a boolean, false when absent; anything else is a problem."""
        return self.reader.flag(table, key, path, default=False, rule_id=rule_id)

    def array(
        self, table: Mapping[str, Any], key: str, path: str, rule_id: str | None
    ) -> list[Any]:
        """``table[key]`` as a list (empty when absent); anything else is a problem."""
        value = table.get(key, [])
        if isinstance(value, list):
            return value
        self.fail(f"{path}.{key}", "expected an array", rule_id=rule_id, key=key)
        return []

    # -- sections

    def build(self) -> Policy:
        data = self.data
        self.check_keys(data, _TOP_KEYS | {s.key for s in self.plugins}, "")
        format_version = data.get("schema_version", FORMAT_VERSION)
        if format_version != FORMAT_VERSION:
            self.fail(
                "schema_version",
                f"this collectrules reads policy format {FORMAT_VERSION!r}, got {format_version!r}",
                key="schema_version",
            )
        pid = self.get_str(data, "id", "")
        if pid and not _ID.match(pid):
            self.fail("id", f"expected letters, digits, '.', '-' or '_', got {pid!r}", key="id")
        version = self.get_str(data, "version", "", default="0")
        title = self.get_str(data, "title", "", default=pid)
        description = self.get_str(data, "description", "", default="")
        notes = self.get_strs(data, "notes", "")
        parameters = self.parameters(data.get("parameters", {}))
        signals = self.signals(data.get("signals", {}))
        params = {n: p.value for n, p in parameters.items()}

        sections, extra_fields = self.sections(data, params)
        schema = base_fields()
        schema.update(signal_fields(signals.values()))
        schema.update(extra_fields)
        for name in params:
            if name in schema:
                self.fail(f"parameters.{name}", f"parameter {name!r} has the name of a fact field")

        layers = self.layers(data.get("layers", []), schema, params)
        for layer in layers:
            schema[layer.output] = FieldSpec(layer.output, FieldType.ENUM, choices=layer.values)
        remedies_table = data.get("remedies", {})
        if not isinstance(remedies_table, Mapping):
            self.fail("remedies", "expected a table")
            remedies_table = {}
        self.check_keys(remedies_table, _REMEDIES_KEYS, "remedies")
        conflict_text = remedies_table.get("conflict", "unspecified")
        try:
            conflict = ConflictRule(conflict_text)
        except ValueError:
            choices = ", ".join(c.value for c in ConflictRule)
            self.fail(
                "remedies.conflict",
                f"expected one of {choices}, got {conflict_text!r}",
                key="conflict",
            )
            conflict = ConflictRule.UNSPECIFIED
        remedy_rules = self.remedy_rules(remedies_table.get("rules", []), schema, params)

        all_ids = [r.id for layer in layers for r in layer.rules] + [r.id for r in remedy_rules]
        seen: set[str] = set()
        for rid in all_ids:
            if rid in seen:
                self.fail(f"rules[{rid}]", f"duplicate rule id {rid!r}", rule_id=rid)
            seen.add(rid)

        self.check_stages(layers)
        if self.problems:
            raise PolicyError(self.problems, subject=f"policy {self.source or pid}")

        canonical = json.dumps(
            _canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        policy = Policy(
            id=pid,
            version=version,
            title=title,
            description=description,
            notes=notes,
            parameters=parameters,
            signals=signals,
            layers=layers,
            remedy_rules=remedy_rules,
            conflict=conflict,
            content_hash=digest,
            data=data,
            source=self.source,
            sections=sections,
            extra_fields=extra_fields,
            plugins=self.plugins,
        )
        _limits.check_policy(policy)
        return policy

    def parameters(self, table: object) -> dict[str, Parameter]:
        out: dict[str, Parameter] = {}
        if not isinstance(table, Mapping):
            self.fail("parameters", "expected a table")
            return out
        for name, spec in table.items():
            path = f"parameters.{name}"
            if not _KIND.match(name):
                self.fail(path, "a parameter name must be snake_case")
                continue
            if not isinstance(spec, Mapping):
                spec = {"value": spec}
            self.check_keys(spec, _PARAMETER_KEYS, path)
            value = spec.get("value")
            if not isinstance(value, bool | int | float | str) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                self.fail(
                    f"{path}.value", "expected a finite number, a string or a boolean", key=name
                )
                continue
            status = spec.get("status")
            if status is not None and status not in ("V", "S"):
                self.fail(f"{path}.status", f"expected 'V' or 'S', got {status!r}")
                status = None
            out[name] = Parameter(
                name=name,
                value=value,
                doc=str(spec.get("doc", "")),
                cites=self.get_strs(spec, "cites", path),
                chosen=bool(spec.get("chosen", False)),
                status=status,
            )
        return out

    def signals(self, table: object) -> dict[str, SignalSpec]:
        out: dict[str, SignalSpec] = {}
        if not isinstance(table, Mapping):
            self.fail("signals", "expected a table")
            return out
        for kind, spec in table.items():
            path = f"signals.{kind}"
            if not _KIND.match(kind):
                self.fail(path, "a signal kind must be snake_case")
                continue
            if not isinstance(spec, Mapping):
                self.fail(path, "expected a table")
                continue
            self.check_keys(spec, _SIGNAL_KEYS, path)
            dimension = spec.get("dimension")
            if dimension not in SIGNAL_DIMENSIONS:
                self.fail(
                    f"{path}.dimension",
                    f"expected 'willingness', 'ability' or 'contact', got {dimension!r}",
                )
            polarity = spec.get("polarity")
            if polarity not in ("negative", "positive", "measured"):
                self.fail(
                    f"{path}.polarity",
                    f"expected 'negative', 'positive' or 'measured', got {polarity!r}",
                )
            out[kind] = SignalSpec(
                kind=kind,
                dimension=str(dimension),
                polarity=str(polarity),
                label_en=str(spec.get("label_en", "")),
                label_zh=str(spec.get("label_zh", "")),
                cites=self.get_strs(spec, "cites", path),
                chosen=self.flag(spec, "chosen", path),
                doc=str(spec.get("doc", "")),
            )
        return out

    def condition(
        self,
        text: object,
        path: str,
        rule_id: str,
        schema: Mapping[str, FieldSpec],
        params: Mapping[str, Scalar],
    ) -> Condition:
        if text is None:
            return Always()
        if isinstance(text, Condition):
            try:
                check(text, schema, params)
            except ConditionError as exc:
                self.fail(path, exc.reason, rule_id=rule_id, key="when", suggestion=exc.suggestion)
            parsed = text
        elif not isinstance(text, str):
            self.fail(
                path,
                f"expected a condition string, got {type(text).__name__}",
                rule_id=rule_id,
                key="when",
            )
            return Always()
        else:
            try:
                parsed = parse(text, schema=schema, params=params)
            except ConditionError as exc:
                # With a suggestion, the field name says where; otherwise the column does.
                col = (
                    f" (column {exc.column})"
                    if exc.column is not None and not exc.suggestion
                    else ""
                )
                self.fail(
                    path,
                    f"{exc.reason}{col}",
                    rule_id=rule_id,
                    key="when",
                    suggestion=exc.suggestion,
                )
                return Always()
        problem = _shape_problem(parsed)
        if problem is not None:
            self.fail(path, problem, rule_id=rule_id, key="when")
            return Always()
        return parsed

    def layers(
        self, raw: object, schema: dict[str, FieldSpec], params: Mapping[str, Scalar]
    ) -> tuple[Layer, ...]:
        if not isinstance(raw, list):
            self.fail("layers", "expected an array of tables: [[layers]]")
            return ()
        out: list[Layer] = []
        schema = dict(schema)
        for i, table in enumerate(raw):
            if not isinstance(table, Mapping):
                self.fail(f"layers[{i}]", "expected a table")
                continue
            lid = self.get_str(table, "id", f"layers[{i}]")
            path = f"layers[{lid or i}]"
            self.check_keys(table, _LAYER_KEYS, path, rule_id=lid)
            output = self.get_str(table, "output", path, default=lid, rule_id=lid)
            values = self.get_strs(table, "values", path, rule_id=lid)
            if not values:
                self.fail(
                    f"{path}.values", "a layer needs at least one value", rule_id=lid, key="values"
                )
            hp_text = table.get("hit_policy", "first")
            try:
                hit = HitPolicy(hp_text)
            except ValueError:
                choices = ", ".join(h.value for h in HitPolicy)
                self.fail(
                    f"{path}.hit_policy",
                    f"expected one of {choices}, got {hp_text!r}",
                    rule_id=lid,
                    key="hit_policy",
                    suggestion=did_you_mean(str(hp_text), [h.value for h in HitPolicy]),
                )
                hit = HitPolicy.FIRST
            default = table.get("default")
            if default is not None and default not in values:
                self.fail(
                    f"{path}.default",
                    f"{default!r} is not one of the layer's values",
                    rule_id=lid,
                    key="default",
                    suggestion=did_you_mean(str(default), values),
                )
            bands: list[tuple[float, str]] = []
            for j, band in enumerate(self.array(table, "bands", path, lid)):
                if (
                    not isinstance(band, Mapping)
                    or not _finite(band.get("min"))
                    or band.get("value") not in values
                ):
                    self.fail(
                        f"{path}.bands[{j}]",
                        "expected { min = <number>, value = <one of the layer's values> }",
                        rule_id=lid,
                        key="bands",
                    )
                    continue
                bands.append((float(band["min"]), str(band["value"])))
            if hit is HitPolicy.COLLECT_SUM and not bands:
                self.fail(f"{path}.bands", "a collect_sum layer needs bands", rule_id=lid)
            labels: dict[str, tuple[str, str]] = {}
            raw_labels = table.get("labels", {})
            if not isinstance(raw_labels, Mapping):
                self.fail(
                    f"{path}.labels",
                    "expected a table of value = [english, chinese]",
                    rule_id=lid,
                    key="labels",
                )
                raw_labels = {}
            for value, label in raw_labels.items():
                if value not in values or not isinstance(label, list) or len(label) != 2:
                    self.fail(
                        f"{path}.labels.{value}",
                        "expected a value of the layer mapped to [english, chinese]",
                        rule_id=lid,
                    )
                    continue
                labels[value] = (str(label[0]), str(label[1]))
            rules: list[LayerRule] = []
            for j, rt in enumerate(self.array(table, "rules", path, lid)):
                if not isinstance(rt, Mapping):
                    self.fail(f"{path}.rules[{j}]", "expected a table")
                    continue
                rid = self.get_str(rt, "id", f"{path}.rules[{j}]")
                rpath = f"{path}.rules[{rid or j}]"
                self.check_keys(rt, _LAYER_RULE_KEYS, rpath, rule_id=rid)
                value = rt.get("value")
                if hit is HitPolicy.COLLECT_SUM:
                    score = rt.get("score")
                    if not _finite(score):
                        self.fail(
                            f"{rpath}.score",
                            "a collect_sum rule needs a finite numeric score",
                            rule_id=rid,
                            key="score",
                        )
                        score = 0
                else:
                    score = 0
                    if value not in values:
                        self.fail(
                            f"{rpath}.value",
                            f"expected one of {', '.join(values)}, got {value!r}",
                            rule_id=rid,
                            key="value",
                            suggestion=did_you_mean(str(value), values),
                        )
                priority = rt.get("priority", 0)
                if isinstance(priority, bool) or not isinstance(priority, int):
                    self.fail(f"{rpath}.priority", "expected a whole number", rule_id=rid)
                    priority = 0
                when = self.condition(rt.get("when"), f"{rpath}.when", rid, schema, params)
                if output in when.fields():
                    self.fail(
                        f"{rpath}.when",
                        f"a rule cannot read its own layer's output {output!r}",
                        rule_id=rid,
                        key="when",
                    )
                rules.append(
                    LayerRule(
                        id=rid,
                        when=when,
                        when_text=rt.get("when", "") if isinstance(rt.get("when"), str) else "",
                        value=value if isinstance(value, str) else None,
                        score=float(score),
                        priority=priority,
                        reason=str(rt.get("reason", "")),
                        cites=self.get_strs(rt, "cites", rpath, rule_id=rid),
                        origin=self.origins.get(rid, self.source or ""),
                        presumed=self.flag(rt, "presumed", rpath, rid),
                        chosen=self.flag(rt, "chosen", rpath, rid),
                        doc=str(rt.get("doc", "")),
                    )
                )
            if output in schema:
                self.fail(
                    f"{path}.output", f"{output!r} is already a field", rule_id=lid, key="output"
                )
            layer = Layer(
                id=lid,
                output=output,
                values=values,
                hit_policy=hit,
                rules=tuple(rules),
                default=default if isinstance(default, str) else None,
                bands=tuple(bands),
                labels=labels,
                cites=self.get_strs(table, "cites", path),
                doc=str(table.get("doc", "")),
            )
            schema[output] = FieldSpec(output, FieldType.ENUM, choices=values)
            out.append(layer)
        return tuple(out)

    def remedy_rules(
        self, raw: object, schema: Mapping[str, FieldSpec], params: Mapping[str, Scalar]
    ) -> tuple[RemedyRule, ...]:
        if not isinstance(raw, list):
            self.fail("remedies.rules", "expected an array of tables: [[remedies.rules]]")
            return ()
        out: list[RemedyRule] = []
        known = [r.value for r in Remedy]
        for j, rt in enumerate(raw):
            if not isinstance(rt, Mapping):
                self.fail(f"remedies.rules[{j}]", "expected a table")
                continue
            rid = self.get_str(rt, "id", f"remedies.rules[{j}]")
            path = f"remedies[{rid or j}]"
            self.check_keys(rt, _REMEDY_RULE_KEYS, path, rule_id=rid)
            effect_text = rt.get("effect")
            try:
                effect = RemedyEffect(str(effect_text))
            except ValueError:
                self.fail(
                    f"{path}.effect",
                    f"expected allow, block or require, got {effect_text!r}",
                    rule_id=rid,
                    key="effect",
                    suggestion=did_you_mean(str(effect_text), [e.value for e in RemedyEffect]),
                )
                effect = RemedyEffect.ALLOW
            names = rt.get("remedies", rt.get("remedy"))
            if isinstance(names, str):
                names = [names]
            remedies: list[Remedy] = []
            if not isinstance(names, list) or not names:
                self.fail(
                    f"{path}.remedy",
                    "expected a remedy name or a list of them",
                    rule_id=rid,
                    key="remedy",
                )
                names = []
            for name in names:
                try:
                    remedies.append(Remedy(name))
                except ValueError:
                    self.fail(
                        f"{path}.remedy",
                        f"unknown remedy {name!r}",
                        rule_id=rid,
                        key="remedies" if "remedies" in rt else "remedy",
                        suggestion=did_you_mean(str(name), known),
                    )
            reason = self.get_str(rt, "reason", path, rule_id=rid)
            when = self.condition(rt.get("when"), f"{path}.when", rid, schema, params)
            out.append(
                RemedyRule(
                    id=rid,
                    effect=effect,
                    remedies=tuple(remedies),
                    when=when,
                    when_text=rt.get("when", "") if isinstance(rt.get("when"), str) else "",
                    reason=reason,
                    conditions=self.get_strs(rt, "conditions", path, rule_id=rid),
                    cites=self.get_strs(rt, "cites", path, rule_id=rid),
                    origin=self.origins.get(rid, self.source or ""),
                    chosen=self.flag(rt, "chosen", path, rid),
                    doc=str(rt.get("doc", "")),
                )
            )
        return tuple(out)

    def sections(
        self, data: Mapping[str, Any], params: Mapping[str, Scalar]
    ) -> tuple[dict[str, Any], dict[str, FieldSpec]]:
        """Parse the optional sections (timeline, regulation …) with their plug-ins."""
        return parse_sections(data, self, params, self.plugins)

    def check_stages(self, layers: Sequence[Layer]) -> None:
        outputs = {layer.output: layer for layer in layers}
        for layer in layers:
            for name in layer.inputs():
                if name in outputs:
                    earlier = [la.output for la in layers[: layers.index(layer)]]
                    if name not in earlier:
                        self.fail(
                            f"layers[{layer.id}]",
                            f"reads {name!r}, which a later layer produces; "
                            "order layers so that inputs come first",
                            rule_id=layer.id,
                        )


#: How deeply ``and`` and ``or`` groups may nest in one condition. durable_rules refuses
#: a ruleset whose conditions nest ``$and``/``$or`` 16 deep (error 113, measured); the
#: engine adds one level for the stage and up to two for a negated optional leaf. The
#: shipped policies need 2.
MAX_CONDITION_GROUPS = 12
#: How deeply a condition may nest at all, ``not`` included: the verifier and the
#: evaluators recurse over the tree. The shipped policies need 3.
MAX_CONDITION_DEPTH = 32


def _shape_problem(condition: Condition) -> str | None:
    """What makes a parsed condition unusable: nesting too deep for durable_rules, the
    verifier or the evaluators, or a constant that is not a finite number (``1e999``)."""
    stack: list[tuple[Condition, int, int]] = [(condition, 1, 0)]
    while stack:
        node, depth, groups = stack.pop()
        if groups > MAX_CONDITION_GROUPS:
            return (
                f"'and' and 'or' nest more than {MAX_CONDITION_GROUPS} levels deep; "
                "durable_rules cannot compile that (error 113): simplify the condition"
            )
        if depth > MAX_CONDITION_DEPTH:
            return (
                f"the condition nests more than {MAX_CONDITION_DEPTH} levels deep "
                "('and', 'or', 'not'); simplify it"
            )
        if isinstance(node, All | AnyOf):
            stack.extend((part, depth + 1, groups + 1) for part in node.parts)
        elif isinstance(node, Not):
            stack.append((node.part, depth + 1, groups))
        elif isinstance(node, Compare | Between | In):
            values = (
                (node.value,)
                if isinstance(node, Compare)
                else (node.low, node.high)
                if isinstance(node, Between)
                else node.values
            )
            for value in values:
                if isinstance(value, float) and not math.isfinite(value):
                    return f"{value!r} is not a finite number"
    return None


def _finite(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a finite number (and not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _starts_another_table(line: str) -> bool:
    """Whether a line opens another TOML table, or another rule of a YAML list."""
    return line.lstrip().startswith("[") or _YAML_ITEM_ID.match(line) is not None


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
