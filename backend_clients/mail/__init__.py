"""Email over SMTP."""

from backend_clients.mail.client import Attachment, MailClient, SmtpConfig, message_id

__all__ = ["Attachment", "MailClient", "SmtpConfig", "message_id"]
