"""Imports every domain's tables so that metadata and migrations see them all."""

from newretail.events import models as events_models
from newretail.tenancy import models as tenancy_models

__all__ = ["events_models", "tenancy_models"]
