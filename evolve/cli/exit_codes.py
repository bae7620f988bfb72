"""The `evolve` command's exit codes, one spelling for every command."""

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
