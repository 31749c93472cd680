"""Typed clients for the backends behind Front Door, one per contract, and the sandbox.

Nothing here imports the portal: the portal passes in what a client needs (URLs, credentials,
a function that gives the headers to send, such as the request id).
"""
