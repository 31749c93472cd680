"""Staff (call-centre agents, editors, administrators): their own identity provider, sign-in
with a second factor required, and pages gated by role. A citizen's session never counts."""
