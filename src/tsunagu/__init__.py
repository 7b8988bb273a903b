"""tsunagu (繋ぐ): the open digital twin of Beyond 5G infrastructure."""

from __future__ import annotations

__version__ = "0.1.0"
