"""The patient check-in: its page, its words, its signed tokens."""
