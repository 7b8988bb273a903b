"""The self-contained, offline HTML report of a run (``tsunagu report RUN``)."""

from __future__ import annotations

from tsunagu.report.html import write_report

__all__ = ["write_report"]
