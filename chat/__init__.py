"""Command layer and chat front ends (console, CLI, Telegram)."""
