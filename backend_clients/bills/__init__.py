from backend_clients.bills.client import Bill, BillsClient

__all__ = ["Bill", "BillsClient"]
