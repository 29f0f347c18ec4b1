"""The entry point ``crewmux iterate`` calls: pick the serial loop or the parallel runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.orchestrate.dag import ParallelRun
from app.orchestrate.loop import SerialLoop

if TYPE_CHECKING:
    from app.orchestrate.runner import Options
    from app.orchestrate.summary import Summary


def run(options: Options) -> Summary:
    """Run ``options`` to the end; returns the summary.

    Raises BadInput (bad options, an unsettled checkpoint without --resume, another orchestrator
    on the same checkpoint), BackendUnavailable (a pane backend that cannot work here),
    CorruptFile (a corrupt checkpoint with no last good copy).
    """
    if options.parallel:
        return ParallelRun(options).run()
    return SerialLoop(options).run()
