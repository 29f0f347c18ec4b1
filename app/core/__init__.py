"""The UI-free domain core: models, paths, atomic io, locks, team, tasks, mailbox, protocol.

Nothing here imports Textual, Rich, libtmux or pyte; ``tests/test_import_hygiene.py`` proves it.
"""
