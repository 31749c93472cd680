"""Conversations with the assistant on SMS, WhatsApp and web chat: the portal is the channel
gateway between citizens and the Rasa bot, and serves the bot its texts and actions."""
