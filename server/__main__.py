"""`python -m server` is the `ambtenaar` command."""

from server.cli import main

raise SystemExit(main())
