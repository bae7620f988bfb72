"""Reading a repository's configuration and checking it against the installed plugins: names, settings, the JSON Schema.

Above the plugin registries (which need the configuration model in `evolve.configuration`), so nothing below imports it.
"""
