"""The bot's own tables (the source of truth) and the functions that read and write them."""
