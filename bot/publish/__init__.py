"""Publish: a run's branch, pull request, labels, `evolve/gates` check runs and the text they carry."""
