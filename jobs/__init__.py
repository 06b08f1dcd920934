"""Scheduled jobs: the 15-minute watch cycle, the cascade watch, the demo."""
