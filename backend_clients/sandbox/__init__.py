"""The sandbox: local stand-ins for every external service, speaking each real contract.

It imports neither the portal nor the typed clients, so a drift between a client and the
contract fails a test instead of hiding. State lives in memory: restart it to start clean.
"""
