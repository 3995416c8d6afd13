"""What a run produced, counted exactly: the numbers an ingest test reconciles against."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from aegis.contracts import DLQ_REASONS


@dataclass
class SimReport:
    scenario: str
    seed: int
    vehicles: int
    vehicles_by_type: dict[str, int]
    duration_s: int
    start_ts: int
    end_ts: int
    speed: str
    target: str = ""
    ticks: int = 0
    #: unique valid records sent (what the ingest job stores)
    valid: int = 0
    #: byte-identical re-sends of valid records (dead-lettered as duplicate_seq)
    duplicate_seq: int = 0
    #: records replaced by a malformed one, per dead-letter reason
    malformed: dict[str, int] = field(default_factory=dict)
    #: valid records held back: out_of_order (within the watermark delay) and late (beyond it)
    out_of_order: int = 0
    late: int = 0
    jittered: int = 0
    #: records not sent because the vehicle's link was down (link_loss)
    silenced: int = 0
    failures_planned: dict[str, int] = field(default_factory=dict)
    failures_struck: int = 0
    commands_received: int = 0
    commands_applied: int = 0
    interrupted: bool = False
    wall_s: float = 0.0

    @property
    def sent(self) -> int:
        """Every record that went out: valid + duplicates + malformed."""
        return self.valid + self.duplicate_seq + sum(self.malformed.values())

    @property
    def dead_letters(self) -> dict[str, int]:
        """Expected dead letters per reason (every reason listed, zeros included)."""
        out = dict.fromkeys(DLQ_REASONS, 0)
        out.update(self.malformed)
        out["duplicate_seq"] = self.duplicate_seq
        return out

    @property
    def records_per_s(self) -> float:
        return self.sent / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["malformed"] = {k: v for k, v in self.dead_letters.items() if k != "duplicate_seq"}
        d.update(sent=self.sent, expected_stored=self.valid, expected_dead_letters=self.dead_letters,
                 expected_dead_letters_total=sum(self.dead_letters.values()),
                 records_per_s=round(self.records_per_s, 1), wall_s=round(self.wall_s, 3))
        return d

    def summary(self) -> str:
        dl = {k: v for k, v in self.dead_letters.items() if v}
        parts = [f"{self.sent} records sent in {self.wall_s:.1f} s ({self.records_per_s:,.0f}/s)",
                 f"{self.valid} valid",
                 f"{sum(dl.values())} for the dead-letter queue {dl}" if dl else "0 for the dead-letter queue"]
        if self.out_of_order or self.late:
            parts.append(f"{self.out_of_order} out of order, {self.late} late")
        if self.silenced:
            parts.append(f"{self.silenced} silenced by link loss")
        return "; ".join(parts)
