"""The rows that point at a customer, found from the model graph (every reverse relation of Customer, hidden
ones included), so that rows added later by other apps count without editing this module."""

from customers.models import Customer, CustomerMerge, DuplicateDismissal


def is_history(model) -> bool:
    """Whether `model` is a pghistory event table (the audit of a record, never moved or counted)."""
    import pghistory.models

    return issubclass(model, pghistory.models.Event)


def customer_relations():
    """Every relation pointing at Customer from another row: (model, foreign-key field) — what a merge moves
    (customers.services.merge) and what the merge page counts (customers.selectors.quality)."""
    for relation in Customer._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and relation.is_relation):
            continue
        model = relation.related_model
        if relation.many_to_many:
            through = relation.through
            if not through._meta.auto_created:
                continue  # an explicit through model is a relation of its own, visited separately
            fk = next(f for f in through._meta.concrete_fields
                      if f.is_relation and f.related_model is Customer)
            yield through, fk
            continue
        fk = relation.field
        if is_history(model) or (model is CustomerMerge and fk.name == "merged") or model is DuplicateDismissal:
            continue
        yield model, fk
