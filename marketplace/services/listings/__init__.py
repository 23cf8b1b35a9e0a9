"""Listings: financing needs and finance products from draft to close, who may see them, their
impact estimates, and the revisions that tell search which needs changed."""
