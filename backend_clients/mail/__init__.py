"""Email over SMTP."""

from backend_clients.mail.client import MailClient, SmtpConfig

__all__ = ["MailClient", "SmtpConfig"]
