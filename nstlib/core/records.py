"""The one shape of a run's history: ``rows``, one dict per step (or per loss evaluation), and ``losses``,
the same numbers as columns. ``fast.TrainRecord``, ``style.LossRecord`` and ``filters.Result`` all keep it,
so a lesson plots any run, and ``train.log`` writes any run as a CSV, the same way.
"""

from __future__ import annotations


class Rows:
    """Mixin for a record with a ``rows`` list. Every row has ``step`` and ``seconds``; the columns named in
    ``BOOKKEEPING`` say where and when a row was taken, every other column is a loss term (or objective)."""

    BOOKKEEPING: tuple = ("step", "seconds")

    def column(self, name: str) -> list:
        """One value per row."""
        return [row[name] for row in self.rows]

    @property
    def losses(self) -> dict[str, list[float]]:
        """Loss term -> one value per row: the rows' columns that are not bookkeeping."""
        names = [k for k in self.rows[0] if k not in self.BOOKKEEPING] if self.rows else []
        return {k: self.column(k) for k in names}
