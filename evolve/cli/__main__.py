"""`python -m evolve.cli`: the same as the `evolve` command."""

import sys

from evolve.cli.commands import main

sys.exit(main())
