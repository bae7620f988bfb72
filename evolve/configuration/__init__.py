"""Configuration: the repository's `.github/evolve.yml` model, its reading, schema, plugin settings and the operator's limits."""
