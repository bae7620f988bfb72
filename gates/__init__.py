"""The built-in quality gates, plugins of the `evolve.gates` entry-point group like any third-party gate.

A gate subclasses `evolve.gate_api.Gate` and returns one of the results of `evolve.results`.
"""
