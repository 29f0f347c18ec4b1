"""crewmux: run a crew of terminal agents as a team."""

__version__ = "0.1.0"
