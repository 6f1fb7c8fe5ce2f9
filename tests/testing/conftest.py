"""Tests of examkit.testing; the plugin's own tests run real pytest sessions with ``pytester``."""

pytest_plugins = ["pytester"]
