"""crewmux web: the console served to a browser (textual-serve), behind a secret token."""
