"""Paying fees and bills through the payment gateway, once and only once."""
