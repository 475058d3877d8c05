"""Queue a health recompute after the current transaction commits, once per deal."""

from django.db import transaction


class _RecomputeBatch:
    """One on-commit callback per transaction that collects every deal touched in it,
    so ten edits in one request queue one recompute per deal."""

    def __init__(self) -> None:
        self.deal_ids: set[int] = set()
        self.sent = False

    def __call__(self) -> None:
        from deals.tasks import health_recompute_task

        # A batch that already ran (tests run on-commit callbacks inside one outer
        # transaction) must not swallow deals added after it.
        self.sent = True
        for deal_id in sorted(self.deal_ids):
            health_recompute_task.delay(deal_id)


def health_recompute_on_commit(*, deal_id: int) -> None:
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _RecomputeBatch) and not callback.sent:
                callback.deal_ids.add(deal_id)
                return
    batch = _RecomputeBatch()
    batch.deal_ids.add(deal_id)
    # Outside a transaction on_commit runs the batch at once.
    transaction.on_commit(batch)
