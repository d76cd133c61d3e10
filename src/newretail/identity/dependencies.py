"""FastAPI dependency: the server's one OneID resolver (and its cache)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from newretail.identity.resolver import IdentityResolver


def get_resolver(request: Request) -> IdentityResolver:
    """The resolver the server's container holds."""
    resolver: IdentityResolver = request.app.state.container.identity
    return resolver


ResolverDep = Annotated[IdentityResolver, Depends(get_resolver)]
