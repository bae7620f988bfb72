"""The dashboard issue: one issue per repository, kept by the App, that shows and steers the bot.

`view` holds the values it shows, `body` renders them (Markdown from templates, Mermaid charts),
`checkboxes` reads what a maintainer ticked, `issue_api` talks to GitHub's issue endpoints,
`collect` gathers the values from the store and GitHub, and `handlers` reacts to events.
"""
