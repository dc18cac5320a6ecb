"""Operators: fetch lists into JSON Lines, and send batches that account for every record."""
