"""What a rule is and what it reports.

A rule has a stable code (``red_flag.cauda_equina``), a kind, a severity and a source key into
DOMAIN.md, fixed for the rule; its check is a pure function of the plan and the context that yields
findings with plain-language messages saying what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from prolotrack.core.catalog import Catalog
from prolotrack.core.doses import SessionDoses
from prolotrack.core.rules.limits import ClinicLimits
from prolotrack.core.rules.plan import Injection, Plan
from prolotrack.core.rules.scope_table import ScopeTable


class Kind(StrEnum):
    RED_FLAG = "red_flag"
    CONTRAINDICATION = "contraindication"
    ALLERGY = "allergy"
    DOSE_LIMIT = "dose_limit"
    SCOPE_OF_PRACTICE = "scope_of_practice"
    INTERVAL = "interval"
    SOLUTION = "solution"
    SITE = "site"
    SERIES = "series"


class Severity(StrEnum):
    # DOMAIN 3.2, "Software rule": hard stop until a clinician documents the referral or override.
    BLOCK = "block"
    # Soft stop: the practitioner acknowledges it.
    WARN = "warn"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most serious, so findings sort block, warn, info."""
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    kind: Kind
    severity: Severity
    message: str
    source: str
    # Indexes (0-based) of the injections concerned, so a form can mark its rows.
    injections: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a check may read besides the plan; built once per check."""

    limits: ClinicLimits
    doses: SessionDoses
    catalog: Catalog
    scope: ScopeTable


Check = Callable[[Plan, Context], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    kind: Kind
    severity: Severity
    source: str

    def __post_init__(self) -> None:
        if not self.code.startswith(f"{self.kind.value}."):
            raise ValueError(f"rule {self.code!r} must start with its kind {self.kind.value!r}")

    def finding(self, message: str, injections: Iterable[int] = ()) -> Finding:
        return Finding(self.code, self.kind, self.severity, message, self.source, tuple(injections))

    def per_injection(self, problems: Iterable[tuple[int, str]]) -> Iterator[Finding]:
        """One finding per distinct message, naming every injection (1-based) that has it.

        Each message is a sentence ending in a full stop; the injections go in brackets before it.
        """
        grouped: dict[str, list[int]] = {}
        for index, message in problems:
            grouped.setdefault(message, []).append(index)
        for message, indexes in grouped.items():
            yield self.finding(
                f"{message.removesuffix('.')} ({injection_label(indexes)}).", indexes
            )

    def each(
        self, injections: Sequence[Injection], problem: Callable[[Injection], str | None]
    ) -> Iterator[Finding]:
        """``per_injection`` over the injections for which ``problem`` returns a message."""
        found = ((i, problem(injection)) for i, injection in enumerate(injections))
        return self.per_injection((i, message) for i, message in found if message is not None)


def injection_label(indexes: Iterable[int]) -> str:
    """ "injection 2" or "injections 1, 3" for 0-based ``indexes``."""
    numbers = [str(i + 1) for i in indexes]
    noun = "injection" if len(numbers) == 1 else "injections"
    return f"{noun} {', '.join(numbers)}"


def number(value: float, places: int = 1) -> str:
    """A number for a message: rounded to ``places``, without trailing zeros (300, 274.5)."""
    return f"{round(value, places):g}"
