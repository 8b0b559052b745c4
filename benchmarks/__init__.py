"""Benchmarks: a large seller's sync, responsiveness under load, many sellers in one process.

Run them with `python -m benchmarks --size full|tiny --out bench-results/results.json`. Each
scenario runs in a fresh subprocess so its peak RSS is its own; the WB fake serves from a
process of its own so its data and its work stay out of the measured process.
"""
