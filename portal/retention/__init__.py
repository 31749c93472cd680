"""Retention: what the portal keeps only for a while (drafts, sign-in codes, sessions in the
database, web chat conversations, the bot's old models) is deleted by the worker once it is
older than the periods in settings, which the privacy notice states."""
