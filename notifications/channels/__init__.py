"""Delivery channels: email through Django's email backends, SMS through a small interface."""
