"""Delivering the messages the routing decided: outbox, channels, sender."""
