"""The lead console: a Textual app that is the team lead's seat (``crewmux console``)."""

from __future__ import annotations
