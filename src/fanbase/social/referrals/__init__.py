"""Share links and commissions (issue 7): a fan shares a product, an order of it within 7 days of the
buyer's last click earns the sharer a commission, paid into their wallet once the order is completed."""
