"""The Telegram front end (python-telegram-bot): application, handlers, rendering, groups.

Public API: ``build_application``, ``start_telegram``, ``stop_telegram``, ``run_telegram``.
"""

from chat.telegram.app import build_application, run_telegram, start_telegram, stop_telegram

__all__ = ["build_application", "run_telegram", "start_telegram", "stop_telegram"]
