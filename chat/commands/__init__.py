"""Chat commands: the Command interface, the built-ins, and the one-shot CLI glue."""
