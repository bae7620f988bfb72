"""The project's own linter, formatter and type-checker settings, read into one frozen `ProjectRules` value.

Evolve follows them: codes the project disabled are never proposed, paths its tools exclude are never
touched, its formatter styles Evolve's edits, and the `lint` and `types` gates hold Evolve to its settings.
"""

from evolve.project_rules.model import ProjectRules
from evolve.project_rules.reader import read_project_rules

__all__ = ["ProjectRules", "read_project_rules"]
