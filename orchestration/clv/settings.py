"""CLV settings: discounting, horizon, churn bands; one seed read by dbt and the CLI.

``dbt_project/seeds/marketing/clv_settings.csv`` (``setting_name, setting_value, description``) is the
single place to change them: the dbt Python models read the seed through ``ref``, and
``closedloop clv fit`` reads the same file (command-line options override it).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestration import environment
from orchestration.clv.errors import ClvInputError

SETTINGS_SEED = environment.DBT_PROJECT_DIR / "seeds" / "marketing" / "clv_settings.csv"


@dataclass(frozen=True)
class ClvSettings:
    """How fitted models are turned into CLV and churn columns.

    Attributes:
        monthly_discount_rate: Discount rate per month applied to future purchase values
            (0.01 a month ≈ 12.7 % a year).
        clv_horizon_months: Months of future purchases counted in the predicted CLV.
        month_length_days: Length of one CLV month in days (365.25 / 12: twelve months
            make a year).
        churn_high_below_percentile: Customers whose expected purchases in the next 365 days
            rank below this percentile (percent rank, 0–1) are high churn risk.
        churn_medium_below_percentile: ... below this one (and not high) medium; the rest low.
        independence_max_abs_correlation: The frequency/value independence assumption of
            Gamma-Gamma counts as met while ``|Pearson r|`` is at most this.
        next_order_min_p_alive: The expected next-order date is given only to customers at
            least this likely to be active (for the others "when they buy again" is moot).
    """

    monthly_discount_rate: float = 0.01
    clv_horizon_months: int = 12
    month_length_days: float = 365.25 / 12
    churn_high_below_percentile: float = 1 / 3
    churn_medium_below_percentile: float = 2 / 3
    independence_max_abs_correlation: float = 0.3
    next_order_min_p_alive: float = 0.5

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.monthly_discount_rate < 1:
            problems.append("monthly_discount_rate must be in [0, 1)")
        if self.clv_horizon_months < 1:
            problems.append("clv_horizon_months must be >= 1")
        if self.month_length_days <= 0:
            problems.append("month_length_days must be > 0")
        if not 0 <= self.churn_high_below_percentile <= self.churn_medium_below_percentile <= 1:
            problems.append(
                "need 0 <= churn_high_below_percentile <= churn_medium_below_percentile <= 1"
            )
        if not 0 <= self.independence_max_abs_correlation <= 1:
            problems.append("independence_max_abs_correlation must be in [0, 1]")
        if not 0 <= self.next_order_min_p_alive <= 1:
            problems.append("next_order_min_p_alive must be in [0, 1]")
        if problems:
            raise ClvInputError("; ".join(problems))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, object]]) -> ClvSettings:
        """Settings from ``(setting_name, setting_value)`` pairs; missing names keep defaults.

        Raises:
            ClvInputError: An unknown name (a typo would otherwise be ignored) or a value
                that is not a number or out of range.
        """
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, object] = {}
        for name, raw in pairs:
            key = str(name).strip()
            if key not in fields:
                raise ClvInputError(f"unknown CLV setting {key!r}; known: {', '.join(fields)}")
            try:
                number = float(str(raw).strip())
                values[key] = int(number) if fields[key].type in (int, "int") else number
            except ValueError:
                raise ClvInputError(f"CLV setting {key} must be a number, got {raw!r}") from None
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> ClvSettings:
        """A copy with some settings changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def load_settings(path: Path | None = None) -> ClvSettings:
    """Read the settings seed (default ``dbt_project/seeds/marketing/clv_settings.csv``).

    Raises:
        ClvInputError: The file is missing, lacks the two columns, or holds a bad setting.
    """
    seed = path or SETTINGS_SEED
    try:
        with seed.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ClvInputError(f"cannot read CLV settings {seed}: {error}") from error
    if rows and not {"setting_name", "setting_value"} <= set(rows[0]):
        raise ClvInputError(f"{seed} needs the columns setting_name and setting_value")
    return ClvSettings.from_pairs((row["setting_name"], row["setting_value"]) for row in rows)
