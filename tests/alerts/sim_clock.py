"""A simulated clock for the sender, and draining as the service does: again when the next
delivery is due (``DrainReport.next_due_ms``), with the clock moved there instead of waiting."""

from __future__ import annotations

from chat.sender import DrainReport, Sender


class SimClock:
    """Seconds since the epoch, moved only by the test."""

    def __init__(self, start_ms: int) -> None:
        self.ms = start_ms

    def __call__(self) -> float:
        return self.ms / 1000

    def advance(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)

    def to(self, ms: int) -> None:
        self.ms = max(self.ms, ms)


async def drain_until_settled(sender: Sender, clock: SimClock, max_drains: int = 200
                              ) -> list[DrainReport]:
    """Drain, jump the clock to the next due delivery, drain again, until nothing is
    pending; the reports of every drain."""
    reports = []
    for _ in range(max_drains):
        report = await sender.drain()
        reports.append(report)
        if report.next_due_ms is None:
            return reports
        clock.to(report.next_due_ms)
    raise AssertionError(f"still pending after {max_drains} drains: {reports[-1]}")


def total(reports: list[DrainReport]) -> DrainReport:
    out = DrainReport()
    for r in reports:
        out.add(r)
    return out
