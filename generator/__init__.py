"""Creditwise: static usage-report sites for Aethera credit subscriptions."""

__version__ = "0.1.0"
