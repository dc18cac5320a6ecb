"""Triggers for answers that come later (deferrable operators)."""
