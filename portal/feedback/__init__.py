""" "Is this page useful?" at the foot of every page, as GOV.UK asks it."""
