"""Failure classification: the rule registry and the built-in rules."""
