"""Reports: the PR body / report.md of a run, built from sections and templates (pure)."""
