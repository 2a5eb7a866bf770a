"""What the customer archive tells other apps, sent inside the service's transaction (receivers that start
work elsewhere enqueue it with transaction.on_commit)."""

from django.dispatch import Signal

# sender: the model class; kwargs: instance (the Purchase or ServiceVisit), customer
purchase_recorded = Signal()
visit_recorded = Signal()
# sender: the model class; kwargs: instance (the Purchase or ServiceVisit just cancelled or refunded), customer,
# staff (who cancelled it, or None), reason
purchase_cancelled = Signal()
visit_cancelled = Signal()
# sender: Lead; kwargs: instance (the lead just won), purchase
lead_won = Signal()
