"""Hedge strategies: one interface for live alerts and backtests (see ``base.py``)."""
