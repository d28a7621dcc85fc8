"""Generation parameters: stated in ``world.json`` (``params``) and ``truth/params.json``.

Time unit of the BG/NBD rate is **days**; Gamma-Gamma spend is in **CZK** (orders in EUR/PLN are
converted with ``fx_to_czk``; the process value is the order ``subtotal`` after line discounts).
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULT_PARAMS: dict[str, Any] = {
    "time_unit": "day",
    # BG/NBD (Fader, Hardie, Lee 2005): purchase rate lambda ~ Gamma(shape r, rate alpha) per
    # day; after every purchase (the first included) the customer drops out with probability
    # p ~ Beta(a, b). Mean lambda = r / alpha = 0.0109 per day (one order per ~92 days).
    "bgnbd": {"r": 0.6, "alpha": 55.0, "a": 0.9, "b": 3.6},
    # Gamma-Gamma: nu ~ Gamma(shape q, rate gamma); order value z ~ Gamma(shape p, rate nu).
    # E[z] = p * gamma / (q - 1) = 1200 CZK.
    "gamma_gamma": {"p": 6.0, "q": 3.5, "gamma": 500.0, "currency": "CZK"},
    "fx_to_czk": {"CZK": 1.0, "EUR": 25.0, "PLN": 5.8},
    "vat_rate": {"CZ": 0.21, "SK": 0.23, "PL": 0.23},
    "countries": {"CZ": 0.6, "SK": 0.2, "PL": 0.2},
    # P(household size = 1..5)
    "household_size_probs": [0.5, 0.27, 0.13, 0.07, 0.03],
    "household_shared_phone": 0.35,
    "household_shared_email": 0.2,
    "growth_shape": 1.4,  # people created at t0 + span * U^(1/shape): growing business
    "alt_email_share": 0.3,
    "contacts_per_company": 2.5,
    "stale_phone_share": 0.12,
    "stale_address_share": 0.08,
    "extra_devices_mean": 0.5,
    # Presence per system (shares of people). Roughly: 55% shop buyers (+ registered
    # non-buyers), ~30% CRM contacts, ~60% ESP profiles, ~15% helpdesk users.
    "shares": {
        "b2b": 0.08,
        "shop_buyer": 0.57,
        "shop_buyer_b2b": 0.35,
        "registered_given_buyer": 0.7,
        "registered_non_buyer": 0.06,
        "crm_given_buyer": 0.33,
        "crm_other": 0.1,
        "esp_given_buyer": 0.75,
        "esp_b2b": 0.6,
        "esp_other": 0.45,
        "helpdesk_given_buyer": 0.24,
        "helpdesk_other": 0.03,
        "web_other": 0.55,
    },
    "consent": {
        "analytics": 0.72,
        "ad_user_data_if_analytics": 0.75,
        "ad_personalization_if_ad_user_data": 0.8,
        "marketing_email_if_esp": 0.8,
        "marketing_email_other": 0.06,
        "sms_if_email": 0.3,
        "unsubscribe_share": 0.12,
    },
    "shop": {
        "guest_order_share_registered": 0.05,
        "cancelled_extra_share": 0.04,
        "refunded_share": 0.02,
        "partially_refunded_share": 0.03,
        "discount_share": 0.15,
        "loyalty_share": 0.4,
        "abandoned_carts_per_customer": 0.8,
        "deleted_customer_share": 0.01,
        "lines_extra_mean": 0.8,
    },
    "crm": {
        "duplicate_contact_share": 0.03,
        "archived_share": 0.02,
        "deal_share_of_b2b": 0.45,
        "win_rate": 0.32,
    },
    "esp": {
        "duplicate_profile_share": 0.02,
        "campaign_sends_mean": 2.6,
        "open_rate": 0.35,
        "click_rate_of_opens": 0.2,
        "soft_bounce_rate": 0.015,
        "spam_rate": 0.002,
        "campaigns_per_week": 2,
    },
    "helpdesk": {
        "extra_tickets_mean": 0.6,
        "duplicate_user_share": 0.05,
        "csat_share": 0.35,
        "nps_share": 0.3,
    },
    "web": {
        "window_days": 90,
        "browse_sessions_per_person_90d": 0.45,
        "anonymous_sessions_per_person_90d": 0.25,
        "duplicate_line_share": 0.003,
        "malformed_per_file_max": 3,
    },
    "advance": {
        "new_people_per_day": 0.0008,  # share of the initial population
        "update_share_per_30d": 0.03,
        "archive_share_per_30d": 0.004,
        "ticket_delete_share_per_30d": 0.005,
        "unsubscribe_share_per_30d": 0.01,
        "late_web_share": 0.01,
        "late_esp_share": 0.01,
    },
}


def default_params() -> dict[str, Any]:
    """A fresh, mutable copy of the default parameters."""
    return copy.deepcopy(DEFAULT_PARAMS)
