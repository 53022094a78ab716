"""Notifications: the outbox written with each state change, emails, webhooks, the worker glue.

Kept free of imports at package level: datapass.config reads the settings module.
"""
