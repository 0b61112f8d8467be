"""``python -m rpctest``: the same as the ``rpctest`` command."""

import sys

from rpctest.cli import main

sys.exit(main())
