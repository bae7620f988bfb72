"""Outcomes: a bot PR merged, closed or reviewed, recorded per codemod, and the learned acceptance read from them."""
