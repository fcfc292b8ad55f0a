"""Persistence: the only package that imports pymongo. Returns plain dataclasses."""
