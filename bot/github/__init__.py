"""GitHub: the typed gateway interface, its githubkit client, where a run acts, and effectively-once writes."""
