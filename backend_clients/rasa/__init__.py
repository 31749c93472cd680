"""The assistant's engine (Rasa Open Source 3.6) behind its REST channel and HTTP API."""

from backend_clients.rasa.client import BotReply, RasaClient

__all__ = ["BotReply", "RasaClient"]
