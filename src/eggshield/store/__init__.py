"""SQLite state: scan history, the update ledger, log-follow checkpoints, the notification outbox.

One database file; each feature owns its tables and declares them with `Store.migrate`.
"""

from eggshield.store.db import Store, default_path

__all__ = ["Store", "default_path"]
