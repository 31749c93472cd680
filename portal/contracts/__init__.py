"""Backend contracts: how an application reaches a department's own system, and how its news
comes back. One module per contract (department.py, open311.py, ...) and one entry in
registry.py; nothing else in the portal names a contract."""
