"""The sandbox identity providers' test users (listed in the README)."""

from __future__ import annotations

from typing import Any

MFA = {"amr": ["pwd", "otp"], "acr": "urn:frontdoor:mfa"}
PASSWORD_ONLY = {"amr": ["pwd"], "acr": "urn:frontdoor:pwd"}

USERS: dict[str, dict[str, dict[str, Any]]] = {
    "citizen": {
        "ana": {
            "sub": "citizen-ana-0001",
            "name": "Ana García",
            "given_name": "Ana",
            "family_name": "García",
            "email": "ana@example.org",
            "phone_number": "+34600111222",
            "locale": "es",
            **PASSWORD_ONLY,
        },
        "omar": {
            "sub": "citizen-omar-0002",
            "name": "Omar Haddad",
            "given_name": "Omar",
            "family_name": "Haddad",
            "email": "omar@example.org",
            "phone_number": "+212600111222",
            "locale": "ar",
            **PASSWORD_ONLY,
        },
        "lee": {
            "sub": "citizen-lee-0003",
            "name": "Lee Smith",
            "given_name": "Lee",
            "family_name": "Smith",
            "email": "lee@example.org",
            "phone_number": "+447400123456",
            "locale": "en",
            **PASSWORD_ONLY,
        },
    },
    "staff": {
        "agent": {
            "sub": "staff-agent-01",
            "name": "Alex Agent",
            "email": "alex@city.example",
            "roles": ["agent"],
            **MFA,
        },
        "agent-2": {  # a second agent: two may reach for the same conversation
            "sub": "staff-agent-03",
            "name": "Sam Second",
            "email": "sam@city.example",
            "roles": ["agent"],
            **MFA,
        },
        "agent-no-mfa": {
            "sub": "staff-agent-02",
            "name": "Nadia Nomfa",
            "email": "nadia@city.example",
            "roles": ["agent"],
            **PASSWORD_ONLY,
        },
        "editor": {
            "sub": "staff-editor-01",
            "name": "Eli Editor",
            "email": "eli@city.example",
            "roles": ["editor"],
            **MFA,
        },
        "reviewer": {  # a second editor: four eyes need two
            "sub": "staff-editor-02",
            "name": "Rui Reviewer",
            "email": "rui@city.example",
            "roles": ["editor"],
            **MFA,
        },
        "designer": {
            "sub": "staff-designer-01",
            "name": "Dana Designer",
            "email": "dana@city.example",
            "roles": ["designer"],
            **MFA,
        },
        "publisher": {  # a second designer: a service goes live when another designer publishes it
            "sub": "staff-designer-02",
            "name": "Paz Publisher",
            "email": "paz@city.example",
            "roles": ["designer"],
            **MFA,
        },
        "office": {  # serves the markets office, which has only a mailbox
            "sub": "staff-office-01",
            "name": "Olu Office",
            "email": "olu@city.example",
            "roles": ["office"],
            "departments": ["markets"],
            **MFA,
        },
        "office-2": {  # another office's member: sees none of the markets office's applications
            "sub": "staff-office-02",
            "name": "Fen Fire",
            "email": "fen@city.example",
            "roles": ["office"],
            "departments": ["fire"],
            **MFA,
        },
        "admin": {
            "sub": "staff-admin-01",
            "name": "Ada Admin",
            "email": "ada@city.example",
            "roles": ["admin"],
            **MFA,
        },
    },
}

# Registered clients per issuer: client_id -> client_secret (documented local defaults).
CLIENTS = {
    "citizen": {"frontdoor-portal": "sandbox-citizen-secret"},
    "staff": {"frontdoor-staff": "sandbox-staff-secret"},
}
