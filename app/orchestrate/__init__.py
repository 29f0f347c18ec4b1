"""The iteration orchestrator: a fresh process per iteration, state handed on in a checkpoint.

``checkpoint`` is the on-disk schema and its crash-safe store, ``process`` starts and watches one
fresh process, ``loop`` runs iterations one after another, ``dag`` runs a checkpoint's tasks in
parallel, ``teamsync`` mirrors those tasks into a team's task list, ``summary`` reports.
"""

from __future__ import annotations
