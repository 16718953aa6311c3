"""The apps CareInbox had before it was laid out by domain, kept for their migrations only.

Their migrations created every table the domain apps use today (the tables kept their names),
so an installation from before the re-layout upgrades with ``migrate`` and keeps every row;
the domain apps' first migrations adopt the tables without touching them.
"""
