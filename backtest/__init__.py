"""The backtester: static against dynamic hedging with fees, funding, slippage, liquidations."""
