"""Shared infrastructure: registries, flag generation, atomic files, seeding, the run folder."""
