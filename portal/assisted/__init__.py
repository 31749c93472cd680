"""Assisted mode: call-centre agents find a citizen and see what the front door holds for them,
for a purpose they state first; every search and look is in the audit log, and administrators
can see who looked at whom."""
