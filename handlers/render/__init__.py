"""Block Kit: every message, modal and tab Timebot shows, built from use-case results."""
