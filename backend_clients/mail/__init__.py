"""Email over SMTP."""

from backend_clients.mail.client import Attachment, MailClient, SmtpConfig

__all__ = ["Attachment", "MailClient", "SmtpConfig"]
