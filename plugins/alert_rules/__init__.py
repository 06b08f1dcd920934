"""Alert rules: which alerts an engine result raises (built-ins are plugins too)."""
