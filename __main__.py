"""``python -m rugsd``: the same CLI as the ``rugsd`` command."""

import sys

from rugsd.daemon.cli import main

sys.exit(main())
