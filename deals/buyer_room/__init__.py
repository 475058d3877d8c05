"""The buyer room: a private link where a buyer contact sees and corrects what the seller
recorded about them (needs, plan, proposal, disclosures, promises) and says how the sale
feels. A Django app with its own label (`buyer_room`) and migrations; the few fields it
adds to the sales models (Need.confirmed_by_buyer_*, Deal.language, HealthPolicy's
link days, Activity kind `buyer_room`) live in the deals app.

Public names: `buyer_room_notify_rep` (the one place that tells the rep), the services in
`services/` and the selectors in `selectors.py`.
"""
