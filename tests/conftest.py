"""Top-level conftest: its presence puts tests/ on sys.path (pytest's prepend import mode), so
every test directory can `from real_parts import program`."""
