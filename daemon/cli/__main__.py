"""``python -m daemon.cli``: the same command as ``exoactor-edge``."""

import sys

from daemon.cli.edge_cli import main

sys.exit(main())
