"""Progress reporting for generation runs: a rich bar on a terminal, log lines elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Callable

from aicraft.engine import Item, Progress, Report


class LogProgress(Progress):
    """One line per finished item through ``log`` (for CI logs and the MkDocs logger)."""

    def __init__(self, log: Callable[[str], None]):
        self.log = log
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        """Announce the run."""
        self.total = total
        if total:
            self.log(f"generating {total} missing item(s)")

    def advance(self, item: Item, error: str | None, cost: float) -> None:
        """Log one finished item."""
        self.done += 1
        state = f"failed: {error}" if error else "ok"
        self.log(f"[{self.done}/{self.total}] {item.location} ai-{item.spec.kind} {state}")


class RichProgress(Progress):
    """A live bar with done/total, failures and money spent."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("[bold]aicraft[/] generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TextColumn("${task.fields[cost]:.4f}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = None
        self._failed = 0
        self._cost = 0.0

    def start(self, total: int) -> None:
        """Show the bar."""
        if not total:
            return
        self._bar.start()
        self._task = self._bar.add_task("generate", total=total, failed=0, cost=0.0)

    def advance(self, item: Item, error: str | None, cost: float) -> None:
        """Move the bar by one item."""
        if self._task is None:
            return
        self._failed += bool(error)
        self._cost += cost
        self._bar.update(self._task, advance=1, failed=self._failed, cost=self._cost)

    def finish(self, report: Report) -> None:
        """Remove the live display."""
        if self._task is not None:
            self._bar.stop()


def make_progress(log: Callable[[str], None]) -> Progress:
    """A rich bar when stderr is a terminal, else log lines."""
    if sys.stderr.isatty():
        return RichProgress()
    return LogProgress(log)
