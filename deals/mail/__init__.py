"""Captured email and calendar: the SMTP drop, parsing, matching, inbox and imports."""
