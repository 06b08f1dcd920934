"""TradingView alerts in: read the body (``signal``), map the ticker (``tickers``), add the
numbers (``assess``, the one place they come from), write the message (``message``), run the
checks and the outbox (``intake``), serve ``POST /tv/<token>`` (``server``), and the
operators' ``/tvroute`` and ``/tvlog`` (``commands``). docs/tradingview.md is the user's guide.
"""
