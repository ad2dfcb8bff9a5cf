"""Delivery: claim due reminders, render them, send them in batches, record every attempt."""
