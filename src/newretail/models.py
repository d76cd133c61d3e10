"""Imports every domain's tables so that metadata and migrations see them all."""

from newretail.tenancy import models as tenancy_models

__all__ = ["tenancy_models"]
