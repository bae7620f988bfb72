"""Prompt templates of the LLM stage (string.Template files, `$name` placeholders)."""
