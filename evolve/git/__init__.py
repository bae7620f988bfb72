"""The trusted git zone: the one layer through which Evolve runs git (see :mod:`evolve.git.command`).

`command` runs git hardened, `trust` refuses repositories whose configuration could run code, `trees` exports
commits into plain directories, `commits` builds and verifies commits from edits, `branches` moves branches
without losing anyone's work, `mirror` is the App's cached mirror, `diffs` renders what edits change.
"""

from evolve.git.command import BOT, BOT_EMAIL, BOT_NAME, Credentials, GitError, Identity, run_git

__all__ = ["BOT", "BOT_EMAIL", "BOT_NAME", "Credentials", "GitError", "Identity", "run_git"]
