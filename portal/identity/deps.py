"""What identity gives routes as Litestar dependencies: the sign-in codes and the citizens'
OpenID Connect client, named as parameters (`sign_in_codes: NamedDependency[SignInCodes]`)
instead of read from `request.app.state`. The lifespan in portal/app.py builds them once."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from backend_clients.oidc import OIDCClient
from portal.identity.codes import SignInCodes


def provide_sign_in_codes(state: State) -> SignInCodes:
    codes: SignInCodes = state.sign_in_codes
    return codes


def provide_citizen_oidc(state: State) -> OIDCClient:
    """The national sign-in's client (staff have their own, `staff_oidc`)."""
    client: OIDCClient = state.citizen_oidc
    return client


DEPENDENCIES = {
    "sign_in_codes": Provide(provide_sign_in_codes, sync_to_thread=False),
    "citizen_oidc": Provide(provide_citizen_oidc, sync_to_thread=False),
}
