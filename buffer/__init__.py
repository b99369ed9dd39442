"""The SQLite store: readings, records, alarms, per-target outboxes and retention."""
