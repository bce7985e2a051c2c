"""Jinja templates of the page, the history and the feed (package data)."""
