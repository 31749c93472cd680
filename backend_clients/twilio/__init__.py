"""Twilio's Programmable Messaging REST API (SMS and WhatsApp)."""

from backend_clients.twilio.client import TwilioClient
from backend_clients.twilio.models import Account, Message

__all__ = ["Account", "Message", "TwilioClient"]
