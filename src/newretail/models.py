"""Imports every domain's tables so that metadata and migrations see them all."""

from newretail.audiences import models as audiences_models
from newretail.catalog import models as catalog_models
from newretail.databank import models as databank_models
from newretail.diagnosis import models as diagnosis_models
from newretail.events import models as events_models
from newretail.identity import models as identity_models
from newretail.inventory import models as inventory_models
from newretail.marketing import models as marketing_models
from newretail.members import models as members_models
from newretail.orders import models as orders_models
from newretail.privacy import models as privacy_models
from newretail.reach import models as reach_models
from newretail.tenancy import models as tenancy_models

__all__ = [
    "audiences_models",
    "catalog_models",
    "databank_models",
    "diagnosis_models",
    "events_models",
    "identity_models",
    "inventory_models",
    "marketing_models",
    "members_models",
    "orders_models",
    "privacy_models",
    "reach_models",
    "tenancy_models",
]
