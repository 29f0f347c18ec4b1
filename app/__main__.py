"""``python -m app`` is ``crewmux``."""

from app.cli import main

raise SystemExit(main())
