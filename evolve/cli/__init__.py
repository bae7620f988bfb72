"""The `evolve` command line: argument parsing, the commands, `config`, and the progress display on stderr."""

from evolve.cli.commands import main
from evolve.cli.exit_codes import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_RUN_FAILED

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_RUN_FAILED", "main"]
