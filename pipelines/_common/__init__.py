"""Helpers shared by the closedloop sources: phone normalisation and the retrying REST client."""
