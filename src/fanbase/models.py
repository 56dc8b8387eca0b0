"""Imports every domain's tables so that ``Base.metadata`` is complete (Alembic, tests)."""

from fanbase.accounts import models as accounts_models
from fanbase.cart import models as cart_models
from fanbase.catalog import models as catalog_models
from fanbase.community.forum import models as forum_models
from fanbase.community.ideas import models as ideas_models
from fanbase.db import Base
from fanbase.festival import models as festival_models
from fanbase.flashsale import models as flashsale_models
from fanbase.fund import models as fund_models
from fanbase.idempotency import IdempotencyRecord
from fanbase.inventory import models as inventory_models
from fanbase.ledger import models as ledger_models
from fanbase.membership import models as membership_models
from fanbase.orders import models as orders_models
from fanbase.payments import models as payments_models
from fanbase.sandbox import models as sandbox_models
from fanbase.social.groupbuys import models as groupbuys_models
from fanbase.social.referrals import models as referrals_models
from fanbase.social.reviews import models as reviews_models
from fanbase.wallet import models as wallet_models

metadata = Base.metadata

__all__ = ["IdempotencyRecord", "accounts_models", "cart_models", "catalog_models", "festival_models",
           "flashsale_models", "forum_models", "fund_models", "groupbuys_models", "ideas_models", "inventory_models",
           "ledger_models", "membership_models", "metadata", "orders_models", "payments_models", "referrals_models",
           "reviews_models", "sandbox_models", "wallet_models"]
