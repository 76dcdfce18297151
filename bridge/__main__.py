"""`python -m bridge` is the same as the `isms-bridge` command."""

from bridge.cli import main

raise SystemExit(main())
