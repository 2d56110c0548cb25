# Minimal shim for tools that still call setup.py; all configuration is in pyproject.toml.
from setuptools import setup
setup()
