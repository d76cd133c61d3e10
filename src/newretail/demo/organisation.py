"""The demo organisation that `make run` seeds: brands and stores of every channel in 4 cities."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import scope_session, utcnow
from newretail.demo.diagnosis_history import DiagnosisHistory
from newretail.demo.marketing import seed_marketing
from newretail.demo.members import seed_members
from newretail.demo.orders import seed_commerce
from newretail.demo.webhooks import seed_webhooks
from newretail.reach.secret_box import SecretBox
from newretail.tenancy import api_keys, schemas, service, users
from newretail.tenancy.models import ChannelType, Organization, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from newretail.warehouse.connection import Warehouse

DEMO_SLUG = "demo"
DEMO_NAME = "NewRetail Demo"
DEMO_EMAIL = "demo@example.com"
# The embedded demo only (documented in the README); never used outside `newretail demo`.
DEMO_PASSWORD = "newretail-demo"  # noqa: S105
DEMO_KEY_NAME = "demo console key"

BRANDS = [("lumiere", "Lumière Beauty"), ("bamboo", "Bamboo Tea")]

_HOURS = {day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
_ALWAYS = {day: [["00:00", "24:00"]] for day in _HOURS}

# code, name, channel, brand, city, district, lat, lon, category
STORES: list[
    tuple[
        str, str, ChannelType, str | None, str | None, str | None, float | None, float | None, str
    ]
] = [
    (
        "ONLINE-FLAGSHIP",
        "Tmall flagship",
        ChannelType.ONLINE,
        None,
        None,
        None,
        None,
        None,
        "beauty",
    ),
    (
        "WH-EAST",
        "East China warehouse",
        ChannelType.WAREHOUSE,
        None,
        "Shanghai",
        "Jiading",
        31.38,
        121.25,
        "warehouse",
    ),
    (
        "SH-XTD-SHOP",
        "Xintiandi shop",
        ChannelType.STORE,
        "lumiere",
        "Shanghai",
        "Xintiandi",
        31.219,
        121.475,
        "beauty",
    ),
    (
        "SH-JA-COUNTER",
        "Jing'an Kerry counter",
        ChannelType.COUNTER,
        "lumiere",
        "Shanghai",
        "Jing'an",
        31.224,
        121.449,
        "beauty",
    ),
    (
        "SH-LJZ-POPUP",
        "Lujiazui pop-up",
        ChannelType.POPUP,
        "lumiere",
        "Shanghai",
        "Lujiazui",
        31.238,
        121.502,
        "beauty",
    ),
    (
        "SH-CLOUD-1",
        "Xintiandi cloud shelf",
        ChannelType.CLOUD_SHELF,
        "lumiere",
        "Shanghai",
        "Xintiandi",
        31.219,
        121.476,
        "beauty",
    ),
    (
        "SH-VEND-1",
        "People's Square vending",
        ChannelType.VENDING,
        "bamboo",
        "Shanghai",
        "Huangpu",
        31.232,
        121.472,
        "tea",
    ),
    (
        "SH-VEND-2",
        "Hongqiao station vending",
        ChannelType.VENDING,
        "bamboo",
        "Shanghai",
        "Hongqiao",
        31.194,
        121.320,
        "tea",
    ),
    (
        "BJ-SLT-SHOP",
        "Sanlitun shop",
        ChannelType.STORE,
        "lumiere",
        "Beijing",
        "Sanlitun",
        39.933,
        116.454,
        "beauty",
    ),
    (
        "BJ-GM-COUNTER",
        "Guomao counter",
        ChannelType.COUNTER,
        "lumiere",
        "Beijing",
        "Guomao",
        39.909,
        116.460,
        "beauty",
    ),
    (
        "BJ-CLOUD-1",
        "Sanlitun cloud shelf",
        ChannelType.CLOUD_SHELF,
        "lumiere",
        "Beijing",
        "Sanlitun",
        39.934,
        116.455,
        "beauty",
    ),
    (
        "BJ-VEND-1",
        "Zhongguancun vending",
        ChannelType.VENDING,
        "bamboo",
        "Beijing",
        "Zhongguancun",
        39.983,
        116.316,
        "tea",
    ),
    (
        "HZ-WL-SHOP",
        "West Lake tea house",
        ChannelType.STORE,
        "bamboo",
        "Hangzhou",
        "West Lake",
        30.259,
        120.148,
        "tea",
    ),
    (
        "HZ-HL-COUNTER",
        "Hubin counter",
        ChannelType.COUNTER,
        "lumiere",
        "Hangzhou",
        "Hubin",
        30.257,
        120.164,
        "beauty",
    ),
    (
        "HZ-POPUP",
        "Hubin pop-up",
        ChannelType.POPUP,
        "bamboo",
        "Hangzhou",
        "Hubin",
        30.258,
        120.165,
        "tea",
    ),
    (
        "HZ-VEND-1",
        "Hangzhou East station vending",
        ChannelType.VENDING,
        "bamboo",
        "Hangzhou",
        "Jianggan",
        30.291,
        120.213,
        "tea",
    ),
    (
        "SZ-COCO-SHOP",
        "Coastal City shop",
        ChannelType.STORE,
        "bamboo",
        "Shenzhen",
        "Nanshan",
        22.517,
        113.936,
        "tea",
    ),
    (
        "SZ-FT-COUNTER",
        "Futian counter",
        ChannelType.COUNTER,
        "lumiere",
        "Shenzhen",
        "Futian",
        22.541,
        114.057,
        "beauty",
    ),
    (
        "SZ-CLOUD-1",
        "Coastal City cloud shelf",
        ChannelType.CLOUD_SHELF,
        "bamboo",
        "Shenzhen",
        "Nanshan",
        22.518,
        113.937,
        "tea",
    ),
    (
        "SZ-VEND-1",
        "Shenzhen North vending",
        ChannelType.VENDING,
        "bamboo",
        "Shenzhen",
        "Longhua",
        22.609,
        114.029,
        "tea",
    ),
]

# Logins for every role, to try the console's access rules.
ROLE_LOGINS = [
    ("marketer@example.com", Role.MARKETER, []),
    ("analyst@example.com", Role.ANALYST, []),
    ("shanghai.manager@example.com", Role.STORE_MANAGER, ["SH-XTD-SHOP", "SH-JA-COUNTER"]),
]


@dataclass
class DemoCredentials:
    organization_id: str
    email: str
    password: str
    api_key: str
    created: bool


def seed_demo(
    session: Session, webhook_box: SecretBox | None = None, warehouse: Warehouse | None = None
) -> DemoCredentials:
    """Create the demo organisation once; every call mints a fresh demo API key. With the
    server's `webhook_box` (it seals signing secrets) the demo gets a webhook endpoint too;
    with its `warehouse`, Double 11's counter rule and decided approaches (its lift report)."""
    scope_session(session, None)
    org = session.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
    created = org is None
    if org is None:
        org = service.create_organization(
            session,
            DEMO_NAME,
            owner_email=DEMO_EMAIL,
            owner_password=DEMO_PASSWORD,
            slug=DEMO_SLUG,
        ).organization
        _seed_tenancy(session, org)
        seed_members(session, org.id, 20000, random.Random(42))  # noqa: S311 (demo data)
        seed_commerce(
            session,
            org.id,
            random.Random(42),  # noqa: S311 (demo data)
            history=DiagnosisHistory(),
        )
        seed_marketing(scope_session(session, org.id), org.id, org.time_zone, warehouse)
        if webhook_box is not None:
            seed_webhooks(session, org.id, webhook_box, utcnow())
    scope_session(session, org.id)
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="demo")
    api_keys.revoke_api_keys_named(session, DEMO_KEY_NAME)
    _, token = api_keys.create_api_key(
        session, owner, schemas.ApiKeyCreate(name=DEMO_KEY_NAME, role=Role.OWNER)
    )
    return DemoCredentials(str(org.id), DEMO_EMAIL, DEMO_PASSWORD, token, created)


def _seed_tenancy(session: Session, org: Organization) -> None:
    scope_session(session, org.id)
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="demo")
    brands = {
        code: service.create_brand(session, owner, schemas.BrandCreate(code=code, name=name))
        for code, name in BRANDS
    }
    for code, name, channel, brand, city, district, lat, lon, category in STORES:
        service.create_store(
            session,
            owner,
            schemas.StoreCreate(
                code=code,
                name=name,
                channel_type=channel,
                brand_id=brands[brand].id if brand else None,
                city=city,
                district=district,
                latitude=lat,
                longitude=lon,
                category=category,
                opening_hours=_ALWAYS
                if channel in (ChannelType.ONLINE, ChannelType.VENDING)
                else _HOURS,
            ),
        )
    for store_code in ("SH-LJZ-POPUP", "SH-CLOUD-1", "SH-VEND-1"):
        store = service.store_by_code(session, store_code)
        service.create_source(
            session, owner, schemas.SourceCreate(name=f"{store.name} sensors", store_id=store.id)
        )
    service.create_source(session, owner, schemas.SourceCreate(name="Online shop backend"))
    for email, role, store_codes in ROLE_LOGINS:
        users.create_user(
            session,
            owner,
            schemas.UserCreate(
                email=email,
                password=DEMO_PASSWORD,
                role=role,
                store_ids=[service.store_by_code(session, c).id for c in store_codes],
            ),
        )
