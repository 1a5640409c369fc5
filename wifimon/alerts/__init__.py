"""Alerting: the rule expression language (the rules engine builds on it)."""
