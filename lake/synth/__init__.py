"""Synthetic ENEM 2019 archives in INEP's format (`lake synth`, `lake demo`, the tests)."""
