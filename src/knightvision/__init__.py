"""Knightvision: AI ad analysis and video generation behind the Partner API v1."""

__version__ = "0.1.0"
