"""Market sources: the exchange plugins (ccxt, CSV, simulated) behind one async interface."""
