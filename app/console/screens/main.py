"""The console's main screen: team list, notifications, the selected teammate's screen, messages."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Static

from app.console import ops
from app.console.approvals import ApprovalQueue
from app.console.approvals import answer as answer_request
from app.console.life import TeamLife
from app.console.messages import Notice, Refreshed, TeamShown
from app.console.notices import describe
from app.console.screens import task_flow
from app.console.screens.confirm import confirm_shutdown, confirm_stop_team
from app.console.screens.dead_letters import DeadLetterKeys
from app.console.screens.help import HelpScreen, console_help
from app.console.widgets.feed import Conversation, NotificationLog
from app.console.widgets.footer import Footer
from app.console.widgets.mirror import PaneMirror
from app.console.widgets.tasks import TaskPanel
from app.console.widgets.teammates import TeammateList
from app.console.widgets.terminal import TerminalView
from app.console.widgets.watcher import TeamWatcher
from app.core import policy
from app.core.errors import CrewmuxError
from app.core.paths import LEAD_NAME

if TYPE_CHECKING:
    from textual import events
    from textual.app import ComposeResult
    from textual.widget import Widget

    from app.console.model import Probe, TeamSnapshot
    from app.console.ops import SpawnRequest, TeamContext


class MainScreen(DeadLetterKeys):
    """Owns the selection and delegate flag; widgets get attributes, send messages back."""

    DEFAULT_CSS = """
    #delegate-banner { display: none; height: 1; background: $accent; color: $background; text-style: bold;
                       content-align: center middle; }
    MainScreen.-delegate #delegate-banner { display: block; }
    MainScreen.-delegate TeammateList { border: double $accent; }
    #left { width: 2fr; }
    #right { width: 3fr; }
    #composer { border: round $panel; background: $surface; }
    #composer:focus { border: round $accent; }
    """
    # The footer shows the keys marked show=True, most used first, so they fit at 80 columns;
    # every key is in the help screen (F1) and the command palette (ctrl+p).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", key_display="f1", tooltip="This list of keys"),
        Binding("shift+down", "select(1)", "Next", priority=True, key_display="⇧↓", tooltip="Select the next teammate"),
        Binding("shift+up", "select(-1)", "Previous teammate", priority=True, show=False),
        Binding("f2", "spawn", "Spawn", tooltip="Spawn a teammate (a form)"),
        Binding("f3", "shutdown", "Shut down…", tooltip="Shut the selected teammate down (asks first)"),
        Binding("ctrl+t", "toggle_tasks", "Tasks", priority=True, tooltip="Show / hide the task panel"),
        Binding("f10", "stop_team", "Stop team…", tooltip="Stop every teammate, then quit (asks first)"),
        Binding("enter", "open_view", "Open the selected teammate's screen", show=False),
        Binding("tab", "focus_next_now", "Next field", show=False, priority=True),
        Binding("shift+tab", "toggle_delegate", "Delegate mode on/off", priority=True, show=False),
        Binding("f4", "jump", "Jump to its tmux/iTerm2 pane", show=False),
        Binding("f5", "interrupt('Escape')", "Interrupt (send Escape)", show=False),
        Binding("f6", "interrupt('C-c')", "Send Ctrl-C", show=False),
        Binding("f7", "answer_plan(True)", "Approve plan / permission", show=False),
        Binding("f8", "answer_plan(False)", "Reject plan / permission", show=False),
        Binding("ctrl+b", "toggle_broadcast", "Broadcast on/off", show=False),
        Binding("f9", "resume_team", "Restart dead teammates", show=False),
        Binding("ctrl+l", "dead_letters", "Dead letters (requeue / discard)", show=False),
        Binding("ctrl+q", "app.quit", "Quit (teammates keep running)", priority=True, show=False),
    ]

    selected: reactive[str] = reactive(LEAD_NAME, init=False, repaint=False)  # its watcher redraws what shows it
    delegate: reactive[bool] = reactive(False)
    broadcast: reactive[bool] = reactive(False)

    def __init__(
        self, ctx: TeamContext, probe: Probe, *, tick: float = 2.0, shutdown_grace: float = 10.0, life: bool = True
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.probe = probe
        self.tick = tick
        self.shutdown_grace = shutdown_grace
        self.life = TeamLife(ctx) if life else None
        self.snapshot: TeamSnapshot | None = None
        self.approvals = ApprovalQueue()  # plans and permissions waiting for the lead (f7 / f8)
        self._dead: set[str] = set()
        self.leaving: set[str] = set()  # shut down on purpose: their end is not a death
        self._shown: tuple[object, ...] | None = None
        self.started = False  # the first frame is drawn and the start-up work that waited for it began

    def compose(self) -> ComposeResult:
        yield Static("DELEGATE MODE — the lead only coordinates (shift+tab to leave)", id="delegate-banner")
        with Horizontal():
            with Vertical(id="left"):
                yield TeammateList(id="teammates")
                yield NotificationLog(id="notices")
            with Vertical(id="right"):
                yield TerminalView(id="terminal")
                yield Conversation(id="conversation")
                yield Input(id="composer")  # its cursor does not blink: no redraw twice a second when idle
        yield TaskPanel(id="tasks")
        dead = self.life.dead if self.life is not None else ()
        yield PaneMirror(self.ctx)
        yield TeamWatcher(self.ctx, self.probe, tick=self.tick, dead=dead, screens=self.life is not None)
        if self.life is not None:
            yield self.life
        yield Footer()

    def on_mount(self) -> None:
        self.composer.cursor_blink = False
        self.title = f"crewmux — {self.ctx.team}"
        self.delegate = policy.is_delegate(self.ctx.paths)
        self._update_placeholder()
        self.query_one(TerminalView).placeholder = "the lead: you are here. shift+down selects a teammate"
        self.set_focus(self.composer)

    @property
    def composer(self) -> Input:
        return self.query_one("#composer", Input)

    # -- focus: keys typed as text never run commands -----------------------------------------
    def typing_target(self, event: events.Key) -> Widget | None:
        """Where a printable key goes when the focused widget would not take it as text or a command.

        Called by the app before it forwards the key (so the focus moves before the next key
        arrives): a letter that is no task-panel key, or any key with nothing focused, goes to the composer.
        """
        focused = self.focused
        if not event.is_printable or isinstance(focused, (Input, TerminalView)):
            return None
        if isinstance(focused, TaskPanel) and TaskPanel.takes_key(event.key):
            return None
        if event.key == "question_mark" and not isinstance(focused, Input):
            return None  # help
        return self.composer

    def action_focus_next_now(self) -> None:
        """Tab, a priority key: the focus moves as it is read, so the next keys land in the new widget."""
        self.focus_next()

    @on(TaskPanel.Leave)
    def _leave_tasks(self, event: TaskPanel.Leave) -> None:
        event.stop()
        self.set_focus(self.composer)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(console_help(self.BINDINGS, TaskPanel.BINDINGS, TerminalView.BINDINGS)))

    # -- data in -----------------------------------------------------------------------------
    @on(Refreshed)
    def _refreshed(self, event: Refreshed) -> None:
        event.stop()
        if self.snapshot is None:  # the first picture: what waited for it starts once it is drawn
            self.call_after_refresh(self.post_message, TeamShown())
        self.snapshot = event.snapshot
        names = event.snapshot.names()
        if self.selected not in names:
            self.selected = LEAD_NAME
        team_list = self.query_one(TeammateList)
        if team_list.rows != event.snapshot.rows:  # redraw only what changed: an idle team costs nothing
            team_list.rows = event.snapshot.rows
        panel = self.query_one(TaskPanel)
        if panel.tasks != event.tasks:
            panel.show_tasks(event.tasks, event.blocked)
        conversation = self.query_one(Conversation)
        peer = self._row(self.selected)
        conversation.peer, conversation.peer_reads_inbox = self.selected, not (peer and peer.kind == "command")
        if conversation.entries != event.conversation:
            conversation.entries = event.conversation
        self.delegate = event.delegate
        log = self.query_one(NotificationLog)
        for row in event.snapshot.rows:
            if row.state == "dead" and row.name not in self._dead:
                self._dead.add(row.name)
                if self.life is not None or row.name in self.leaving:
                    continue  # the liveness monitor tells it, with the reason and the released tasks
                log.add(f"✖ {row.name} died (its process is gone)", severity="error", key=f"dead:{row.name}")
            elif row.state != "dead":
                self._dead.discard(row.name)
        for message in event.new_for_lead:
            line, key, severity, _request = describe(message)
            self.approvals.offer(message)
            if key == f"dead:{message.sender}" and message.sender in self.leaving:
                continue  # it was shut down on purpose: the shutdown's own line says how it ended
            log.add(line, severity=severity, key=key)
        current = self._row(self.selected)
        shown = (current.name, current.backend, current.pane_id, current.pid, current.state) if current else None
        if shown != self._shown:
            self._show_selected()

    @on(TeamShown)
    def _team_shown(self) -> None:
        """The first frame is drawn: the full status pass and the team's life start (the app, next,
        opens the shell's link and freezes the heap: the message bubbles on)."""
        self.started = True
        self.query_one(TeamWatcher).refresh_team()
        if self.life is not None:
            self.life.start()

    @on(Notice)
    def _notice(self, event: Notice) -> None:
        event.stop()
        if event.key is not None and event.key.startswith("dead:") and event.key[5:] in self.leaving:
            return  # the liveness monitor saw a deliberate shutdown end the process
        self.query_one(NotificationLog).add(event.text, severity=event.severity, key=event.key)

    # -- selection -------------------------------------------------------------------------
    def watch_selected(self, name: str) -> None:
        self.paint_now()  # the newly selected teammate shows when ready, not at the next frame tick
        self.query_one(TeammateList).selected = name
        self.query_one(TeamWatcher).selected = name
        self._update_placeholder()
        self._show_selected()
        self.query_one(TeamWatcher).refresh_team()

    def watch_delegate(self, on: bool) -> None:
        self.set_class(on, "-delegate")

    def watch_broadcast(self) -> None:
        self._update_placeholder()

    def _update_placeholder(self) -> None:
        target = "everyone" if self.broadcast else self.selected
        self.query_one("#composer", Input).placeholder = f"message to {target} (enter sends, ctrl+b broadcast)"

    def _row(self, name: str) -> Any:
        if self.snapshot is None:
            return None
        return next((r for r in self.snapshot.rows if r.name == name), None)

    def _show_selected(self) -> None:
        row = self._row(self.selected)
        self._shown = (row.name, row.backend, row.pane_id, row.pid, row.state) if row else None
        self.query_one(PaneMirror).show(row, self.query_one(TerminalView))

    def action_select(self, step: int) -> None:
        names = self.snapshot.names() if self.snapshot else [LEAD_NAME]
        i = names.index(self.selected) if self.selected in names else 0
        self.selected = names[(i + step) % len(names)]

    # -- actions ---------------------------------------------------------------------------
    def action_open_view(self) -> None:
        if self.selected == LEAD_NAME:
            try:
                policy.check(self.ctx.paths, LEAD_NAME, "type_into_own_pane")
            except CrewmuxError as exc:
                self.post_message(Notice(f"refused: {exc}", "warning"))
                return
            self.post_message(Notice("the lead has no pane here: select a teammate with shift+down"))
            return
        self.query_one(TerminalView).focus()

    @on(TerminalView.Left)
    def _left(self) -> None:
        self.set_focus(self.composer)

    @on(TerminalView.Typed)
    def _typed(self, event: TerminalView.Typed) -> None:
        event.stop()
        view = self.query_one(TerminalView)
        if view.terminal is not None:
            view.terminal.write(event.data)
        else:
            self.run_op("type", ops.write_to, self.ctx, self.selected, event.data.decode("utf-8", "replace"))

    def action_toggle_tasks(self) -> None:
        panel = self.query_one(TaskPanel)
        shown = panel.toggle_class("-shown").has_class("-shown")
        if shown:
            self.set_focus(panel)  # now, so the next key of a burst already goes to the panel
        else:
            self.set_focus(self.composer)

    def action_toggle_delegate(self) -> None:
        self.run_op("delegate", policy.set_delegate, self.ctx.paths, not self.delegate)
        self.delegate = not self.delegate
        self.post_message(Notice(f"delegate mode {'on' if self.delegate else 'off'}", key="delegate"))

    def action_toggle_broadcast(self) -> None:
        self.broadcast = not self.broadcast

    def action_spawn(self) -> None:
        from app.console.screens.forms import SpawnForm  # imported on first use: not for the first frame

        def done(req: SpawnRequest | None) -> None:
            if req is not None:
                self.run_op(f"spawn {req.name}", ops.spawn, self.ctx, req)

        self.app.push_screen(SpawnForm(cwd=os.getcwd(), auto=ops.auto_backend(self.ctx)), done)

    def action_shutdown(self) -> None:
        """F3: confirm, then shut the selected teammate down."""
        name = self.selected
        if name == LEAD_NAME:
            self.post_message(Notice("shut down: refused: the lead is shut down by quitting the console", "warning"))
            return
        row = self._row(name)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.leaving.add(name)
                self.run_op(f"shut down {name}", ops.shutdown, self.ctx, name, grace=self.shutdown_grace)

        self.app.push_screen(confirm_shutdown(name, self.shutdown_grace, row.task if row else None), confirmed)

    def action_resume_team(self) -> None:
        """Re-attach live teammates and restart dead or in-process ones with their recorded command."""
        try:
            policy.check(self.ctx.paths, LEAD_NAME, "spawn")
        except CrewmuxError as exc:
            self.post_message(Notice(f"restart dead teammates: refused: {exc}", "warning"))
            return
        if self.life is None:
            self.post_message(Notice("this console runs without the team's life support (life=False)", "warning"))
            return
        self.life.resume_now()

    def action_stop_team(self) -> None:
        """F10: confirm, then shut every teammate down (request, then escalation), then quit."""
        try:
            policy.check(self.ctx.paths, LEAD_NAME, "shutdown")
        except CrewmuxError as exc:
            self.post_message(Notice(f"stop the team: refused: {exc}", "warning"))
            return
        names = [n for n in (self.snapshot.names() if self.snapshot else []) if n != LEAD_NAME]

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.leaving.update(names)
                self.post_message(Notice("stopping the team: every teammate is asked to shut down…", key="stop-team"))
                self._stop_team()

        self.app.push_screen(confirm_stop_team(self.ctx.team, names, self.shutdown_grace), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="stop-team", description="stop the team")
    def _stop_team(self) -> None:
        if self.life is not None:
            self.life.stop.set()  # no restarts or deliveries while the team goes down
        results = self.ctx.teammates.shutdown_all(timeout=self.shutdown_grace, force=True)
        gone = ", ".join(f"{r.name} ({r.outcome.replace('_', ' ')})" for r in results) or "no teammates"
        self.post_message(Notice(f"team stopped: {gone}", key="stop-team"))
        self.app.call_from_thread(self.app.exit)

    def action_jump(self) -> None:
        self.run_op(f"jump to {self.selected}", ops.focus, self.ctx, self.selected)

    def action_interrupt(self, key: str) -> None:
        self.run_op(f"interrupt {self.selected}", ops.interrupt, self.ctx, self.selected, key)

    def action_answer_plan(self, approved: bool) -> None:
        item = self.approvals.take(self.selected)
        if item is None:
            self.post_message(Notice(f"no plan from {self.selected} nor permission request is waiting", "warning"))
            return
        self.run_op(item.describe(approved), answer_request, self.ctx, item, approved)
        self.query_one(NotificationLog).discard(item.key)

    @on(TaskPanel.Action)
    def _task_action(self, event: TaskPanel.Action) -> None:
        event.stop()
        task_flow.act(self, self.query_one(TaskPanel), event.verb, event.task_id)

    @on(Input.Submitted, "#composer")
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip():  # enter on an empty composer opens the selected teammate's view
            self.action_open_view()
            return
        event.input.value = ""
        self.run_op("send", ops.send_message, self.ctx, None if self.broadcast else self.selected, text)

    def operation_done(self) -> None:
        self.query_one(TeamWatcher).refresh_team()
