"""Suite-wide settings.

Hypothesis runs derandomised so that CI is reproducible: a property that fails,
fails on every machine. Explore new inputs locally with
``pytest --hypothesis-profile=explore``.
"""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile("ci")
